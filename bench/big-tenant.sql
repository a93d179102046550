-- The big tenant's volume: residents, inputs, comments, reactions, votes and the rest, made with
-- generate_series and set-based INSERTs (bench/big-tenant.ts runs it, step by step, in one
-- transaction, after it has written the folders, projects, phases and staff).
--
-- The placeholders in double braces are filled by big-tenant.ts with literals it computed itself (the
-- instants of "now" and launch, the row counts), so the helpers below are plain IMMUTABLE SQL
-- functions the planner inlines. random() is seeded (setseed) and nothing runs in parallel, so
-- a run makes the same rows again.
--
-- Time: activity spreads from launch to now with a density growing linearly to 4× (a platform
-- that grew), so the last quarter holds about 6.7 % of all rows and the last 12 months about 25 %.
-- Rows are inserted in time order, as a live platform appends them.
-- Temporary tables (gen_*) hold the intermediate rows; they disappear with the transaction.

-- step: helpers
-- s: the instant's place between launch (0) and now (1).
CREATE FUNCTION pg_temp.s_of(t timestamp) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT extract(epoch FROM (t - {{launch}}::timestamp))::float8 / {{span}} $$;
CREATE FUNCTION pg_temp.at_s(s double precision) RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT {{launch}}::timestamp + make_interval(secs => s * {{span}}) $$;
-- The inverse of the growing density's distribution F(s) = (s + 1.5 s²) / 2.5.
CREATE FUNCTION pg_temp.grown(u double precision) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (-1 + sqrt(1 + 15 * u)) / 3 $$;
-- Residents are numbered in the order they registered: how many had by instant t.
CREATE FUNCTION pg_temp.registered(t timestamp) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT greatest(500, least({{residents}}, floor({{residents}} * (greatest(0, pg_temp.s_of(t)) + 1.5 * greatest(0, pg_temp.s_of(t)) ^ 2) / 2.5)))::int $$;
CREATE FUNCTION pg_temp.resident(i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT md5('resident:' || i)::uuid $$;
-- Participation is concentrated, as on a live platform: an active eighth of the residents
-- registered by t does nearly everything, and a few of them a great deal (u³: the first 1 % of
-- them make a fifth of the acts). Long-standing residents are the active ones.
CREATE FUNCTION pg_temp.active(t timestamp) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT greatest(500, pg_temp.registered(t) / 8) $$;
CREATE FUNCTION pg_temp.someone(t timestamp, u double precision) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT pg_temp.resident(1 + floor(pg_temp.active(t) * u ^ 3)::bigint) $$;
-- The k-th distinct active resident of a set (one reaction per person and input, one basket per
-- person and phase): 1000003 is a prime above the number of residents, so k ↦ resident is one-to-one.
CREATE FUNCTION pg_temp.kth(seed text, k bigint, t timestamp) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT pg_temp.resident(1 + ((hashtext(seed)::bigint & 2147483647) + k * 1000003) % pg_temp.active(t)) $$;
CREATE FUNCTION pg_temp.frac(x double precision) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT x - floor(x) $$;
CREATE FUNCTION pg_temp.pick(xs text[], u double precision) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT xs[1 + floor(u * array_length(xs, 1))::int] $$;

-- step: residents
-- {{residents}} residents, registered over the years as the platform grew (2 % never finished).
INSERT INTO users (id, email, slug, roles, first_name, last_name, locale, custom_field_values, registration_completed_at,
                   email_confirmed_at, confirmation_required, last_active_at, block_start_at, block_end_at, created_at, updated_at)
SELECT pg_temp.resident(r), 'resident' || r || '@example.org', 'resident-' || r, '[]',
       pg_temp.pick(ARRAY['Emma','Lucas','Louise','Noah','Marie','Arthur','Elise','Jules','Camille','Victor','Lotte','Wout','Fatima','Mohamed','Sarah','Thomas','Nina','Milan','Hanne','Ibrahim','Julie','Pieter','Chloé','Hugo','Amira','Bram','Léa','Senne','Ayoub','Charlotte'], random()),
       pg_temp.pick(ARRAY['Peeters','Janssens','Maes','Jacobs','Mertens','Willems','Claes','Goossens','Wouters','De Smet','Dubois','Lambert','Dupont','Martin','Vermeulen','Van den Broeck','El Amrani','Yilmaz','Leroy','De Backer'], random()),
       pg_temp.pick(ARRAY['nl-BE','nl-BE','nl-BE','fr-BE','en'], random()),
       jsonb_build_object('gender', pg_temp.pick(ARRAY['female','male','unspecified'], random()), 'birthyear', 1940 + floor(random() * 66)::int,
                          'domicile', md5('area:' || floor(random() * 25))::uuid),
       CASE WHEN r % 50 = 0 THEN NULL ELSE reg END, CASE WHEN r % 50 = 0 THEN NULL ELSE reg END, r % 50 = 0,
       reg + (timestamp {{now}} - reg) * random(),
       CASE WHEN r % 2000 = 7 THEN timestamp {{now}} - interval '1 day' END, CASE WHEN r % 2000 = 7 THEN timestamp {{now}} + interval '30 days' END,
       reg - interval '5 minutes', reg
  FROM (SELECT r, pg_temp.at_s(pg_temp.grown((r - 0.5) / {{residents}})) AS reg FROM generate_series(1, {{residents}}) r) x;

-- step: inputs
-- {{ideas}} inputs across the phases that take them, each phase's share in proportion to its
-- project's weight and the activity of its months (cumulative integer shares: the total is exact).
CREATE TEMP TABLE gen_input_phase ON COMMIT DROP AS
WITH w AS (
  SELECT ph.*, round(1e6 * ph.weight * CASE ph.method WHEN 'ideation' THEN 1.0 WHEN 'proposals' THEN 0.8 WHEN 'native_survey' THEN 1.3
                                                        WHEN 'common_ground' THEN 0.4 ELSE 0.5 END
                     * ((sb - sa) + 1.5 * (sb * sb - sa * sa)))::numeric AS w
    FROM (SELECT g.*, greatest(0, pg_temp.s_of(g.a)) AS sa, pg_temp.s_of(least(g.b, timestamp {{now}})) AS sb FROM gen_phase g) ph
   WHERE ph.method IN ('ideation', 'proposals', 'native_survey', 'common_ground', 'community_monitor_survey')
     AND NOT ph.draft AND ph.a < timestamp {{now}}
), c AS (SELECT w.*, sum(w) OVER (ORDER BY id) AS cum, sum(w) OVER () AS total FROM w)
SELECT c.*, (div({{ideas}} * cum, total) - div({{ideas}} * (cum - w), total))::int AS n FROM c;

CREATE TEMP TABLE gen_idea ON COMMIT DROP AS
SELECT md5('input:' || y.n)::uuid AS id, y.*,
       y.method IN ('native_survey', 'community_monitor_survey') AS is_survey,
       y.method IN ('ideation', 'proposals') AS is_post,
       CASE WHEN y.method IN ('native_survey', 'community_monitor_survey') THEN CASE WHEN y.u_status < 0.01 THEN 'draft' ELSE 'published' END
            WHEN y.u_status < 0.02 THEN 'draft' WHEN y.u_status < 0.035 THEN 'submitted' ELSE 'published' END AS status
  FROM (SELECT row_number() OVER (ORDER BY t, phase_id, k) AS n, x.*
          FROM (SELECT p.id AS phase_id, p.project_id, p.method, k,
                       p.a + (least(p.b, timestamp {{now}}) - p.a) * random() AS t,
                       random() AS u_status, random() AS u_anon, random() AS u_author, random() AS u_title
                  FROM gen_input_phase p, generate_series(1, p.n) k) x) y;
CREATE UNIQUE INDEX ON gen_idea (n);
CREATE INDEX ON gen_idea (project_id);
ANALYZE gen_idea;

-- step: comments
-- {{comments}} comments on the published posts (ideation and proposals inputs), most inputs a
-- few, some many; within 60 days of the input, sooner more often. A quarter are replies.
CREATE TEMP TABLE gen_comment ON COMMIT DROP AS
WITH w AS (SELECT n, id, t, round(1000 * (0.1 + 15 * random() ^ 3))::numeric AS w FROM gen_idea WHERE is_post AND status = 'published'),
c AS (SELECT w.*, sum(w) OVER (ORDER BY n) AS cum, sum(w) OVER () AS total FROM w),
alloc AS (SELECT n, id, t, (div({{comments}} * cum, total) - div({{comments}} * (cum - w), total))::int AS cnt FROM c)
SELECT a.n AS idea_n, a.id AS idea_id, k,
       a.t + least(interval '60 days', timestamp {{now}} - a.t) * random() ^ 2 AS ct,
       random() AS u_anon, random() AS u_author, random() AS u_status, random() AS u_reply, random() AS u_body
  FROM alloc a, generate_series(1, a.cnt) k;
-- A reply answers the input's first comment.
CREATE TEMP TABLE gen_thread ON COMMIT DROP AS
SELECT z.*, CASE WHEN z.pos > 1 AND z.u_reply < 0.25 THEN first_value(z.id) OVER (PARTITION BY z.idea_n ORDER BY z.pos) END AS parent_id
  FROM (SELECT md5('comment:' || y.cn)::uuid AS id, y.*
          FROM (SELECT row_number() OVER (ORDER BY ct, idea_n, k) AS cn, row_number() OVER (PARTITION BY idea_n ORDER BY ct, k) AS pos, c.*
                  FROM gen_comment c) y) z;
CREATE UNIQUE INDEX ON gen_thread (id);
ANALYZE gen_thread;

-- step: reactions
-- {{reactions}} reactions (up, down, neutral) on published inputs (not survey responses) and
-- published comments, inputs far more than comments, one per person and target, within 30 days.
CREATE TEMP TABLE gen_target ON COMMIT DROP AS
WITH t AS (
  SELECT 'Idea'::text AS type, id, t, round(1000 * (1 + 30 * random() ^ 3))::numeric AS w FROM gen_idea WHERE status = 'published' AND NOT is_survey
  UNION ALL
  SELECT 'Comment', id, ct, round(1000 * (0.2 + 4 * random() ^ 4))::numeric FROM gen_thread WHERE u_status >= 0.05
), c AS (SELECT t.*, sum(w) OVER (ORDER BY type, id) AS cum, sum(w) OVER () AS total FROM t)
SELECT type, id, t, (div({{reactions}} * cum, total) - div({{reactions}} * (cum - w), total))::int AS cnt FROM c;
INSERT INTO reactions (id, reactable_id, reactable_type, user_id, mode, created_at, updated_at)
SELECT md5(x.id::text || ':' || k)::uuid, x.id, x.type, pg_temp.kth(x.id::text, k, x.t),
       CASE WHEN u < 0.8 THEN 'up' WHEN u < 0.94 THEN 'down' ELSE 'neutral' END, at, at
  FROM (SELECT g.id, g.type, g.t, k, random() AS u, g.t + least(interval '30 days', timestamp {{now}} - g.t) * random() ^ 2 AS at
          FROM gen_target g, generate_series(1, g.cnt) k) x
 ORDER BY at;

CREATE TEMP TABLE gen_reaction_counts ON COMMIT DROP AS
SELECT reactable_id AS id, count(*) FILTER (WHERE mode = 'up')::int AS likes, count(*) FILTER (WHERE mode = 'down')::int AS dislikes,
       count(*) FILTER (WHERE mode = 'neutral')::int AS neutral
  FROM reactions GROUP BY reactable_id;
CREATE UNIQUE INDEX ON gen_reaction_counts (id);
ANALYZE gen_reaction_counts;

-- step: insert comments
INSERT INTO comments (id, author_id, idea_id, parent_id, lft, rgt, body_multiloc, created_at, updated_at, likes_count, dislikes_count,
                      publication_status, children_count, author_hash, anonymous)
SELECT c.id, CASE WHEN c.u_anon < 0.04 THEN NULL ELSE pg_temp.someone(c.ct, c.u_author) END, c.idea_id, c.parent_id, 2 * c.pos - 1, 2 * c.pos,
       jsonb_build_object('nl-BE', pg_temp.pick(ARRAY['Goed idee!', 'Eens, maar denk ook aan de buren die hier elke dag langskomen.', 'Hier is al lang nood aan, zeker ’s avonds.',
                                                     'Is dit wel betaalbaar? Ik lees niets over het onderhoud.', 'Ja, graag <b>snel</b>!', 'Ik woon hier twintig jaar en dit zou echt een verschil maken voor de kinderen in de straat.',
                                                     'Kan dit ook in onze wijk?', 'Tegen: er is al te weinig parkeerplaats.'], c.u_body)),
       c.ct, c.ct, coalesce(r.likes, 0), coalesce(r.dislikes, 0),
       CASE WHEN c.u_status < 0.05 THEN 'deleted' ELSE 'published' END,
       coalesce(ch.n, 0), CASE WHEN c.u_anon < 0.04 THEN substr(md5('hash:' || c.cn), 1, 16) END, c.u_anon < 0.04
  FROM gen_thread c
  LEFT JOIN gen_reaction_counts r ON r.id = c.id
  LEFT JOIN (SELECT parent_id, count(*)::int AS n FROM gen_thread WHERE parent_id IS NOT NULL GROUP BY parent_id) ch ON ch.parent_id = c.id
 ORDER BY c.ct;

-- step: voting candidates
-- A voting phase votes on the 40 latest published ideation inputs its project had when it started.
CREATE TEMP TABLE gen_candidate ON COMMIT DROP AS
SELECT * FROM (
  SELECT v.id AS phase_id, v.voting_method, v.a, v.b, i.n, i.id AS idea_id,
         row_number() OVER (PARTITION BY v.id ORDER BY i.t DESC, i.n) AS rank
    FROM gen_phase v
    JOIN gen_idea i ON i.project_id = v.project_id AND i.method = 'ideation' AND i.status = 'published' AND i.t < v.a
   WHERE v.method = 'voting' AND NOT v.draft AND v.a < timestamp {{now}}
) x WHERE rank <= 40;
-- Budget options have a price; a quarter of the voting phases had paper ballots an admin entered
-- a week before the end (per input: the latest voting phase it is in keeps the running total).
CREATE TEMP TABLE gen_idea_votes ON COMMIT DROP AS
SELECT DISTINCT ON (c.idea_id) c.idea_id,
       CASE WHEN bool_or(c.voting_method = 'budgeting') OVER (PARTITION BY c.idea_id) THEN (2 + (hashtext(c.idea_id::text) & 2147483647) % 59) * 2500 END AS budget,
       CASE WHEN c.rank <= 5 AND (hashtext(c.phase_id::text) & 3) = 0 AND least(c.b, timestamp {{now}}) - interval '7 days' > c.a
            THEN 2 + (hashtext(c.idea_id::text || 'paper') & 2147483647) % 29 END AS manual_votes,
       CASE WHEN c.rank <= 5 AND (hashtext(c.phase_id::text) & 3) = 0 AND least(c.b, timestamp {{now}}) - interval '7 days' > c.a
            THEN least(c.b, timestamp {{now}}) - interval '7 days' END AS manual_at
  FROM gen_candidate c
 ORDER BY c.idea_id, c.a DESC;
UPDATE phases ph SET manual_voters_amount = 10 + (hashtext(ph.id::text) & 2147483647) % 31,
                     manual_voters_last_updated_at = least(g.b, timestamp {{now}}) - interval '7 days'
  FROM gen_phase g
 WHERE g.id = ph.id AND g.method = 'voting' AND NOT g.draft AND (hashtext(g.id::text) & 3) = 0
   AND least(g.b, timestamp {{now}}) - interval '7 days' > g.a
   AND EXISTS (SELECT 1 FROM gen_candidate c WHERE c.phase_id = g.id);

-- step: insert inputs
INSERT INTO ideas (id, title_multiloc, body_multiloc, publication_status, published_at, project_id, author_id, created_at, updated_at,
                   likes_count, dislikes_count, neutral_reactions_count, comments_count, idea_status_id, slug, budget, official_feedbacks_count,
                   custom_field_values, creation_phase_id, author_hash, anonymous, submitted_at, manual_votes_amount, manual_votes_last_updated_at)
SELECT i.id,
       CASE WHEN i.is_survey THEN jsonb_build_object('nl-BE', 'Antwoord ' || i.k)
            ELSE jsonb_build_object('nl-BE', concat_ws(' ', pg_temp.pick(ARRAY['Meer','Veiliger','Groener','Betere','Nieuwe','Autovrije','Extra','Gezellige'], i.u_title),
                                                     pg_temp.pick(ARRAY['fietsenstalling','zitbanken','speeltuin','bomen','verlichting','oversteekplaats','moestuin','waterpunt','hondenweide','buurtfeest','deelauto’s','laadpalen'], pg_temp.frac(i.u_title * 8)),
                                                     pg_temp.pick(ARRAY['aan het station','op het plein','in de Brugse Poort','aan de school','langs de Leie','in Ledeberg','in de Muide','aan de markt'], pg_temp.frac(i.u_title * 96)))) END,
       CASE WHEN i.is_survey THEN '{}'::jsonb
            ELSE jsonb_build_object('nl-BE', '<p>' || pg_temp.pick(ARRAY['Dat zou de buurt echt helpen: er is nu te weinig plaats en de kinderen spelen op straat.',
                                                                         'Ik fiets hier elke dag naar het werk en ’s avonds is het er gevaarlijk donker. Kan de stad hier iets aan doen?',
                                                                         'Veel buren willen meewerken. We stellen voor om te beginnen met een proefproject van zes maanden en daarna samen te evalueren.',
                                                                         'Eenvoudig en goedkoop: een paar bakken met planten en een bank maken van dit plein weer een plek om elkaar te ontmoeten.'], i.u_anon)
                                            || '</p><p>' || pg_temp.pick(ARRAY['Wie doet mee?', 'Bedankt om dit te lezen.', 'Graag jullie reactie.', ''], i.u_author) || '</p>') END,
       i.status, CASE WHEN i.status = 'published' THEN i.t END, i.project_id,
       CASE WHEN i.u_anon < 0.05 THEN NULL ELSE pg_temp.someone(i.t, i.u_author) END,
       i.t - interval '4 minutes', i.t,
       coalesce(r.likes, 0), coalesce(r.dislikes, 0), coalesce(r.neutral, 0), coalesce(c.n, 0),
       CASE WHEN i.is_survey THEN NULL WHEN s.id IS NOT NULL THEN s.id ELSE md5('status:' || CASE WHEN i.method = 'proposals' THEN 'proposals:proposed' ELSE 'ideation:proposed' END)::uuid END,
       'input-' || i.n, v.budget,
       -- the same draw and instant as the feedback step makes the official feedback with
       (i.is_post AND i.status = 'published' AND pg_temp.frac(i.u_status * 13) < 0.33
        AND i.t + interval '7 days' + pg_temp.frac(i.u_status * 13) * interval '83 days' < timestamp {{now}})::int,
       CASE WHEN i.is_survey THEN jsonb_build_object('q1', pg_temp.pick(ARRAY['a','b','c','d'], i.u_title), 'q2', round((i.u_title * 10)::numeric) , 'q3', 'Meer groen en minder verkeer, en een plek voor jongeren.') ELSE '{}'::jsonb END,
       CASE WHEN i.method = 'ideation' THEN NULL ELSE i.phase_id END,
       CASE WHEN i.u_anon < 0.05 THEN substr(md5('hash:input:' || i.n), 1, 16) END, i.u_anon < 0.05,
       CASE WHEN i.status = 'draft' THEN NULL ELSE i.t END,
       v.manual_votes, v.manual_at
  FROM gen_idea i
  LEFT JOIN gen_reaction_counts r ON r.id = i.id
  LEFT JOIN (SELECT idea_id, count(*)::int AS n FROM gen_thread WHERE u_status >= 0.05 GROUP BY idea_id) c ON c.idea_id = i.id
  LEFT JOIN gen_idea_votes v ON v.idea_id = i.id
  -- Answered ones moved on from "proposed" (see feedback below: the same draw).
  LEFT JOIN LATERAL (SELECT md5('status:ideation:' || pg_temp.pick(ARRAY['viewed','under_consideration','accepted','implemented','rejected'], pg_temp.frac(i.u_status * 37)))::uuid AS id
                      WHERE i.method = 'ideation' AND i.status = 'published' AND pg_temp.frac(i.u_status * 13) < 0.45) s ON true
 ORDER BY i.t;

INSERT INTO ideas_phases (idea_id, phase_id, created_at, updated_at)
SELECT id, phase_id, t, t FROM gen_idea
UNION ALL
SELECT idea_id, phase_id, a, a FROM gen_candidate;

-- step: feedback
-- Answers as the platform counts them (analytics_build_feedbacks): an official feedback on about
-- a third of the published posts, a status changed by a moderator on about one in ten more;
-- every published input also has its 'published' activity, as on a live platform.
INSERT INTO official_feedbacks (id, body_multiloc, author_multiloc, user_id, idea_id, created_at, updated_at)
SELECT md5('feedback:' || n)::uuid, '{"nl-BE": "<p>Bedankt voor je idee. We bekijken het met de dienst en laten snel iets weten.</p>"}', '{"nl-BE": "Stad"}',
       md5('staff:' || (1 + n % 6))::uuid, id, at, at
  FROM (SELECT n, id, t + interval '7 days' + pg_temp.frac(u_status * 13) * interval '83 days' AS at FROM gen_idea
         WHERE is_post AND status = 'published' AND pg_temp.frac(u_status * 13) < 0.33) f
 WHERE at < timestamp {{now}}
 ORDER BY at;
INSERT INTO activities (item_type, item_id, action, payload, user_id, acted_at, created_at, project_id)
SELECT 'Idea', id, action, '{}', user_id, at, at, project_id FROM (
  SELECT id, 'changed_status' AS action, md5('staff:' || (1 + n % 6))::uuid AS user_id, t + interval '3 days' + pg_temp.frac(u_status * 13) * interval '57 days' AS at, project_id
    FROM gen_idea WHERE is_post AND status = 'published' AND pg_temp.frac(u_status * 13) >= 0.33 AND pg_temp.frac(u_status * 13) < 0.45
  UNION ALL
  SELECT id, 'published', NULL, t, project_id FROM gen_idea WHERE status = 'published'
) a
 WHERE at < timestamp {{now}}
 ORDER BY at;

-- step: votes
-- Ballots in every voting phase with candidates (one per resident and phase, 85 % submitted),
-- in proportion to its project's weight and months; 1 to 5 picks each.
CREATE TEMP TABLE gen_basket ON COMMIT DROP AS
WITH v AS (
  SELECT g.id, g.a, least(g.b, timestamp {{now}}) AS b, g.voting_method, c.ncand,
         least(pg_temp.active(g.a), round(g.weight * 500 * (pg_temp.s_of(least(g.b, timestamp {{now}})) - greatest(0, pg_temp.s_of(g.a))) * (1 + 3 * pg_temp.s_of(g.a)) * 24))::int AS cnt
    FROM gen_phase g JOIN (SELECT phase_id, count(*)::int AS ncand FROM gen_candidate GROUP BY phase_id) c ON c.phase_id = g.id
)
SELECT md5('basket:' || v.id::text || ':' || k)::uuid AS id, v.id AS phase_id, v.voting_method, v.ncand, pg_temp.kth(v.id::text, k, v.a) AS user_id,
       v.a + (v.b - v.a) * random() AS at, random() < 0.85 AS submitted, floor(random() * 1000)::int AS h, 1 + floor(random() * 5)::int AS picks
  FROM v, generate_series(1, v.cnt) k;
INSERT INTO baskets (id, submitted_at, user_id, phase_id, created_at, updated_at)
SELECT id, CASE WHEN submitted THEN at END, user_id, phase_id, at - interval '10 minutes', at FROM gen_basket ORDER BY at;
INSERT INTO baskets_ideas (basket_id, idea_id, votes, created_at, updated_at)
SELECT b.id, c.idea_id, CASE b.voting_method WHEN 'budgeting' THEN v.budget WHEN 'multiple_voting' THEN 1 + (b.h + j) % 3 ELSE 1 END, b.at, b.at
  FROM gen_basket b
  CROSS JOIN LATERAL generate_series(0, least(b.picks, b.ncand) - 1) j
  JOIN gen_candidate c ON c.phase_id = b.phase_id AND c.rank = 1 + (b.h + j) % b.ncand
  LEFT JOIN gen_idea_votes v ON v.idea_id = c.idea_id;
UPDATE phases ph SET baskets_count = n FROM (SELECT phase_id, count(*) FILTER (WHERE submitted_at IS NOT NULL)::int AS n FROM baskets GROUP BY phase_id) b WHERE b.phase_id = ph.id;

-- step: polls, volunteering, events
INSERT INTO polls_responses (id, phase_id, user_id, created_at, updated_at)
SELECT md5('poll:' || g.id::text || ':' || k)::uuid, g.id, pg_temp.someone(g.a, random()), at, at
  FROM gen_phase g,
       LATERAL generate_series(1, round(g.weight * 1200 * (pg_temp.s_of(least(g.b, timestamp {{now}})) - greatest(0, pg_temp.s_of(g.a))) * 24)::int) k,
       LATERAL (SELECT g.a + (least(g.b, timestamp {{now}}) - g.a) * random() AS at) t
 WHERE g.method = 'poll' AND NOT g.draft AND g.a < timestamp {{now}}
 ORDER BY at;
INSERT INTO volunteering_causes (id, phase_id, title_multiloc, description_multiloc, ordering, created_at, updated_at)
SELECT md5('cause:' || g.id::text || ':' || c)::uuid, g.id, jsonb_build_object('nl-BE', (ARRAY['Buurtploeg', 'Opruimactie', 'Voorleesouders'])[c], 'en', (ARRAY['Neighbourhood team', 'Clean-up', 'Reading to children'])[c]),
       '{}', c, g.a, g.a
  FROM gen_phase g, generate_series(1, 1 + (hashtext(g.id::text) & 1)) c
 WHERE g.method = 'volunteering' AND NOT g.draft;
INSERT INTO volunteering_volunteers (id, cause_id, user_id, created_at, updated_at)
SELECT md5('volunteer:' || vc.id::text || ':' || k)::uuid, vc.id, pg_temp.kth(vc.id::text, k, g.a), at, at
  FROM volunteering_causes vc JOIN gen_phase g ON g.id = vc.phase_id,
       LATERAL generate_series(1, least(400, round(g.weight * 900 * (pg_temp.s_of(least(g.b, timestamp {{now}})) - greatest(0, pg_temp.s_of(g.a))) * 24)::int)) k,
       LATERAL (SELECT g.a + (least(g.b, timestamp {{now}}) - g.a) * random() AS at) t
 WHERE g.a < timestamp {{now}}
 ORDER BY at;
UPDATE volunteering_causes vc SET volunteers_count = n FROM (SELECT cause_id, count(*)::int AS n FROM volunteering_volunteers GROUP BY cause_id) v WHERE v.cause_id = vc.id;
-- Events: about one a month in each live project, and the coming months' in those still running.
INSERT INTO events (id, project_id, title_multiloc, description_multiloc, location_multiloc, start_at, end_at, created_at, updated_at, address_1, online_link)
SELECT md5('event:' || p.project_id::text || ':' || k)::uuid, p.project_id,
       jsonb_build_object('nl-BE', (ARRAY['Infoavond', 'Buurtwandeling', 'Workshop', 'Inspraakmoment'])[1 + k % 4] || ' ' || p.title, 'en', (ARRAY['Information evening', 'Neighbourhood walk', 'Workshop', 'Consultation'])[1 + k % 4]),
       '{}', '{"nl-BE": "Stadshal"}', s, s + interval '2 hours', least(s, timestamp {{now}}) - interval '30 days', least(s, timestamp {{now}}) - interval '30 days',
       'Emile Braunplein, Gent', CASE WHEN k % 5 = 0 THEN 'https://meet.example.org/' || k END
  FROM (SELECT project_id, min(title) AS title, min(a) AS a, max(least(b, timestamp {{now}} + interval '60 days')) AS b FROM gen_phase WHERE NOT draft GROUP BY project_id) p,
       LATERAL generate_series(1, greatest(1, ceil(extract(epoch FROM p.b - p.a) / (30 * 86400))::int)) k,
       LATERAL (SELECT date_trunc('hour', p.a + (k - 0.5) * interval '30 days') + interval '19 hours' AS s) t
 WHERE p.a < timestamp {{now}} AND t.s < p.b;
INSERT INTO events_attendances (id, attendee_id, event_id, created_at, updated_at)
SELECT md5('attendance:' || e.id::text || ':' || k)::uuid, pg_temp.kth(e.id::text, k, e.start_at - interval '14 days'), e.id, at, at
  FROM events e,
       LATERAL generate_series(1, 5 + (hashtext(e.id::text) & 2147483647) % 60) k,
       LATERAL (SELECT e.start_at - interval '14 days' * random() AS at) t
 WHERE e.start_at < timestamp {{now}}
 ORDER BY at;
UPDATE events e SET attendees_count = n FROM (SELECT event_id, count(*)::int AS n FROM events_attendances GROUP BY event_id) a WHERE a.event_id = e.id;

-- step: the rest
-- External survey responses (the platform does not count them), internal comments, e-mail consents.
INSERT INTO surveys_responses (phase_id, survey_service, external_survey_id, external_response_id, user_id, submitted_at, answers, created_at, updated_at)
SELECT g.id, 'typeform', 'ext-' || left(g.id::text, 8), 'r' || k, pg_temp.someone(g.a, random()), at, '{}', at, at
  FROM gen_phase g, generate_series(1, 300) k, LATERAL (SELECT g.a + (least(g.b, timestamp {{now}}) - g.a) * random() AS at) t
 WHERE g.method = 'survey' AND NOT g.draft AND g.a < timestamp {{now}};
INSERT INTO internal_comments (author_id, idea_id, lft, rgt, body, created_at, updated_at)
SELECT md5('staff:' || (1 + n % 6))::uuid, id, 1, 2, 'Doorgestuurd naar de dienst.', t + interval '2 days', t + interval '2 days'
  FROM gen_idea WHERE is_post AND status = 'published' AND n % 25 = 0 AND t + interval '2 days' < timestamp {{now}};
INSERT INTO email_campaigns_consents (campaign_type, user_id, consented, created_at, updated_at)
SELECT c, pg_temp.resident(r), (r + length(c)) % 3 <> 0, timestamp {{now}} - interval '1 year', timestamp {{now}} - interval '1 year'
  FROM generate_series(1, {{residents}}, 10) r, unnest(ARRAY['EmailCampaigns::Campaigns::Newsletter', 'EmailCampaigns::Campaigns::CommentOnIdeaYouFollow']) c;

-- step: counters
UPDATE projects p SET ideas_count = x.ideas, comments_count = x.comments
  FROM (SELECT project_id, count(*)::int AS ideas, sum(comments_count)::int AS comments FROM ideas WHERE publication_status = 'published' GROUP BY project_id) x
 WHERE x.project_id = p.id;
UPDATE phases ph SET ideas_count = x.n FROM (SELECT phase_id, count(*)::int AS n FROM ideas_phases GROUP BY phase_id) x WHERE x.phase_id = ph.id;
UPDATE idea_statuses s SET ideas_count = x.n FROM (SELECT idea_status_id, count(*)::int AS n FROM ideas GROUP BY idea_status_id) x WHERE x.idea_status_id = s.id;
