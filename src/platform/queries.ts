/*
 * Every query Crier runs against the platform, one named constant each, written against the
 * platform's real tables (govocal-structure-2025-11.sql, from its db/structure.sql). Columns
 * are always named: a real tenant has many more tables and columns. Timestamps in the platform are UTC without zone,
 * so period bounds are passed as UTC 'YYYY-MM-DD HH:MI:SS.MS' text ($1 inclusive, $2 exclusive).
 */

/** Does the tenant schema exist? $1 schema name. */
export const TENANT_SCHEMA_EXISTS = `
  SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists`;

/** The tenant's settings (time zone, locales, organisation name). */
export const APP_CONFIGURATION = `
  SELECT host, settings FROM app_configurations ORDER BY created_at LIMIT 1`;

/*
 * The activity of a period, read on a platform of millions of rows with only the platform's own
 * indexes. Three of its tables are large: reactions (no index on created_at), ideas (none on
 * published_at) and comments (an index on created_at). So every activity query:
 * - reads each of them once, restricted by time before anything is joined: the period's
 *   reactions in one scan of the table, its inputs in one scan of ideas, its comments through
 *   their created_at index;
 * - joins to the rest from that narrow side: a reaction to a comment finds its comment by primary
 *   key, only those reactions do (a reaction to an input has no key to look up, see below), and
 *   an act needs its input's project only where a figure is per project;
 * - counts people from (project, person) pairs aggregated in one hash, never count(DISTINCT …)
 *   over every act, whose sorts spill to disk; a person is a uuid (an anonymous author is the
 *   md5 of 'anonymous:' and their author_hash, a poll answer without an account the md5 of the
 *   answer), not text.
 * What each participation method contributes follows the platform's own analytics
 * (analytics_fact_participations, analytics_fact_posts; the table is in the README):
 * - an idea is an 'input' unless its creation phase is a native survey or the community
 *   monitor survey, whose rows are 'survey' responses; poll answers are 'survey' responses too;
 * - a submitted basket is one 'ballot' by its voter; its baskets_ideas rows are 'vote's, or
 *   money ('budget') in a budgeting phase, where baskets_ideas.votes holds the idea's price;
 * - votes and voters an admin entered by hand (ideas.manual_votes_amount,
 *   phases.manual_voters_amount) count in the period they were last entered, as
 *   'offline-vote' / 'offline-budget' (picks × the idea's budget) / 'offline-voters';
 * - volunteering and event attendance make a resident a participant and count nothing else.
 * An actor is a person; offline votes have none. A reaction to a comment belongs to the
 * comment's input's project.
 */

/** The people of a participation method's rows, as uuids (see above). */
const PERSON = {
  idea: `COALESCE(i.author_id, md5('anonymous:' || i.author_hash)::uuid)`,
  comment: `COALESCE(c.author_id, md5('anonymous:' || c.author_hash)::uuid)`,
};

/** Inputs and survey responses published in [$1, $2): a read of the whole ideas table (no index on published_at). */
const INPUTS_PUBLISHED = `
    SELECT CASE WHEN ph.participation_method IN ('native_survey', 'community_monitor_survey') THEN 'survey' ELSE 'input' END AS kind,
           i.project_id, ${PERSON.idea} AS actor, i.published_at AS at
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp`;

/** People's acts in [$1, $2) whose project is known without the ideas table: polls, volunteering, events, ballots. */
const OTHER_ACTS = `
    SELECT 'survey', ph.project_id, COALESCE(pr.user_id, md5('poll:' || pr.id)::uuid), pr.created_at
      FROM polls_responses pr
      JOIN phases ph ON ph.id = pr.phase_id
     WHERE pr.created_at >= $1::timestamp AND pr.created_at < $2::timestamp
    UNION ALL
    SELECT 'volunteer', ph.project_id, v.user_id, v.created_at
      FROM volunteering_volunteers v
      JOIN volunteering_causes vc ON vc.id = v.cause_id
      JOIN phases ph ON ph.id = vc.phase_id
     WHERE v.created_at >= $1::timestamp AND v.created_at < $2::timestamp
    UNION ALL
    SELECT 'attendance', e.project_id, a.attendee_id, a.created_at
      FROM events_attendances a
      JOIN events e ON e.id = a.event_id
     WHERE a.created_at >= $1::timestamp AND a.created_at < $2::timestamp
    UNION ALL
    SELECT 'ballot', ph.project_id, b.user_id, b.submitted_at
      FROM baskets b
      JOIN phases ph ON ph.id = b.phase_id
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp`;

/**
 * The amounts of [$1, $2), per project: (kind, project_id, amount). They have no person (votes
 * are counted, not attributed; offline ones were entered by an admin), so they are summed apart
 * from the people's acts.
 */
const AMOUNTS = `
  amounts AS (
    SELECT CASE WHEN ph.voting_method = 'budgeting' THEN 'budget' ELSE 'vote' END AS kind, ph.project_id, bi.votes::bigint AS amount
      FROM baskets b
      -- The period's ballots' picks by their basket_id index (OFFSET 0: not a read of every pick).
      CROSS JOIN LATERAL (SELECT bi.votes FROM baskets_ideas bi WHERE bi.basket_id = b.id OFFSET 0) bi
      JOIN phases ph ON ph.id = b.phase_id
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp
    UNION ALL
    SELECT CASE WHEN ph.voting_method = 'budgeting' THEN 'offline-budget' ELSE 'offline-vote' END, i.project_id,
           CASE WHEN ph.voting_method = 'budgeting' THEN i.manual_votes_amount::bigint * COALESCE(i.budget, 0) ELSE i.manual_votes_amount END
      -- Only ideas in a voting phase can have offline votes: found from the few voting phases,
      -- phase by phase through the ideas_phases phase_id index, and read by primary key (OFFSET
      -- 0 keeps both lookups: the planner, guessing ideas_phases spread evenly over phases,
      -- would read all of ideas_phases and all ideas).
      FROM (SELECT DISTINCT ip.idea_id FROM phases vp CROSS JOIN LATERAL (SELECT ip.idea_id FROM ideas_phases ip WHERE ip.phase_id = vp.id OFFSET 0) ip WHERE vp.participation_method = 'voting') vi
      CROSS JOIN LATERAL (
        SELECT i.project_id, i.budget, i.manual_votes_amount FROM ideas i
         WHERE i.id = vi.idea_id AND i.manual_votes_amount > 0
           AND i.manual_votes_last_updated_at >= $1::timestamp AND i.manual_votes_last_updated_at < $2::timestamp
        OFFSET 0
      ) i
      -- manual_votes_amount is one running total per idea: it belongs to one voting phase, the
      -- latest the idea is in, however many it was in.
      CROSS JOIN LATERAL (
        SELECT vp.voting_method FROM ideas_phases ip JOIN phases vp ON vp.id = ip.phase_id
         WHERE ip.idea_id = vi.idea_id AND vp.participation_method = 'voting'
         ORDER BY vp.start_at DESC NULLS LAST, vp.id LIMIT 1
      ) ph
    UNION ALL
    SELECT 'offline-voters', ph.project_id, ph.manual_voters_amount
      FROM phases ph
     WHERE ph.participation_method = 'voting' AND ph.manual_voters_amount > 0
       AND ph.manual_voters_last_updated_at >= $1::timestamp AND ph.manual_voters_last_updated_at < $2::timestamp
  )`;

/**
 * Every act of a person in [$1, $2) with its project: (kind, project_id, actor, at).
 * The period's comments (their created_at index) and reactions (one scan of the table) are
 * read once each, then given their input, then their input's project, from the narrow side:
 * - a reaction to a comment finds that comment among the period's comments (hashed: most
 *   reactions are to recent comments), and only otherwise by primary key (a LATERAL with OFFSET
 *   0, so the planner cannot make it a hash of every comment; its one-time filter skips the
 *   lookup for the others). A reaction of any other type finds no input and counts nowhere, as
 *   on the platform; a reaction to a deleted comment still counts, as on the platform.
 * - every act then gets its input's project in one join with ideas (by primary key only pays
 *   for a period of a few days: a quarter's acts are about some 75,000 inputs).
 * The reactions are not filtered on reactable_type: the index that starts with it matches every
 * reaction and would only tempt the planner into reading the table through it.
 */
const ACTS = `
  period_comments AS MATERIALIZED (
    SELECT c.id, c.idea_id, c.publication_status = 'published' AS published, ${PERSON.comment} AS actor, c.created_at AS at
      FROM comments c
     WHERE c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
  ),
  acts AS (${INPUTS_PUBLISHED}
    UNION ALL
    SELECT a.kind, i.project_id, a.actor, a.at
      FROM (
        SELECT 'comment' AS kind, pc.idea_id, pc.actor, pc.at
          FROM period_comments pc
         WHERE pc.published
        UNION ALL
        SELECT 'reaction', CASE WHEN r.reactable_type = 'Idea' THEN r.reactable_id ELSE COALESCE(pc.idea_id, lk.idea_id) END, r.user_id, r.created_at
          FROM reactions r
          LEFT JOIN period_comments pc ON r.reactable_type = 'Comment' AND pc.id = r.reactable_id
          LEFT JOIN LATERAL (
            SELECT c.idea_id FROM comments c WHERE r.reactable_type = 'Comment' AND pc.id IS NULL AND c.id = r.reactable_id OFFSET 0
          ) lk ON true
         WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
      ) a
      JOIN ideas i ON i.id = a.idea_id
    UNION ALL${OTHER_ACTS}
  )`;

/**
 * The period's acts without their project, already reduced to one row per group and person,
 * for figures that count people and acts over the whole platform (a compared period's totals,
 * the monthly chart): no join to ideas or comments at all, and each source (reactions,
 * comments, inputs …) reduced in its own branch, which Postgres can do in parallel workers,
 * before the branches are put together. `group` is an expression of the act's instant `at`
 * (NULL: one group). Columns: (grp, actor, inputs, survey_responses, comments, reactions, ballots).
 * A reaction is counted without looking at its input or comment: on the platform a reaction
 * is deleted with them (Idea and Comment have_many reactions, dependent: :destroy; a deleted
 * comment stays as publication_status 'deleted', its reactions too).
 */
const peopleActs = (group: (at: string) => string) => `
  people_acts AS (
    SELECT ${group('i.published_at')} AS grp, ${PERSON.idea} AS actor,
           count(*) FILTER (WHERE ph.participation_method IS DISTINCT FROM 'native_survey' AND ph.participation_method IS DISTINCT FROM 'community_monitor_survey') AS inputs,
           count(*) FILTER (WHERE ph.participation_method IN ('native_survey', 'community_monitor_survey')) AS survey_responses,
           0 AS comments, 0 AS reactions, 0 AS ballots
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
     GROUP BY 1, 2
    UNION ALL
    SELECT ${group('c.created_at')}, ${PERSON.comment}, 0, 0, count(*), 0, 0
      FROM comments c
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
     GROUP BY 1, 2
    UNION ALL
    SELECT ${group('r.created_at')}, r.user_id, 0, 0, 0, count(*) FILTER (WHERE r.reactable_type IN ('Idea', 'Comment')), 0
      FROM reactions r
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
     GROUP BY 1, 2
    HAVING count(*) FILTER (WHERE r.reactable_type IN ('Idea', 'Comment')) > 0
    UNION ALL
    SELECT ${group('o.at')}, o.actor, 0, count(*) FILTER (WHERE o.kind = 'survey'), 0, 0, count(*) FILTER (WHERE o.kind = 'ballot')
      FROM (${OTHER_ACTS}
      ) o(kind, project_id, actor, at)
     GROUP BY 1, 2
  )`;

/** What one (group, person) row counts of its acts: people are counted one level up. */
const SUMS = `
         count(*) FILTER (WHERE kind = 'input')    AS inputs,
         count(*) FILTER (WHERE kind = 'survey')   AS survey_responses,
         count(*) FILTER (WHERE kind = 'comment')  AS comments,
         count(*) FILTER (WHERE kind = 'reaction') AS reactions,
         count(*) FILTER (WHERE kind = 'ballot')   AS ballots`;

/** SUMS again, over (project, person) rows regrouped by person (a group's people across its projects). */
const PAIR_SUMS = `
         sum(inputs) AS inputs, sum(survey_responses) AS survey_responses, sum(comments) AS comments, sum(reactions) AS reactions, sum(ballots) AS ballots`;

/** The people's figures of a group of (group, person) rows; the same columns for every grouping (0, not NULL, for none). */
const PEOPLE_COUNTS = `
         COALESCE(sum(inputs), 0)::int                  AS inputs,
         COALESCE(sum(survey_responses), 0)::int        AS survey_responses,
         COALESCE(sum(comments), 0)::int                AS comments,
         COALESCE(sum(reactions), 0)::int               AS reactions,
         COALESCE(sum(ballots), 0)::int                 AS ballots,
         (count(actor) FILTER (WHERE ballots > 0))::int AS voters,
         count(actor)::int                              AS participants`;

/** The amounts of a group of amounts rows (AMOUNTS). */
const AMOUNT_SUMS = `
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-voters'), 0)::int              AS offline_voters,
         COALESCE(sum(amount) FILTER (WHERE kind IN ('vote', 'offline-vote')), 0)::int     AS votes,
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-vote'), 0)::int                AS offline_votes,
         COALESCE(sum(amount) FILTER (WHERE kind IN ('budget', 'offline-budget')), 0)::bigint AS budget,
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-budget'), 0)::bigint           AS offline_budget`;

/** The amount columns of a row that has none. */
const NO_AMOUNTS = `0 AS offline_voters, 0 AS votes, 0 AS offline_votes, 0::bigint AS budget, 0::bigint AS offline_budget`;

/**
 * Activity in [$1, $2): per project ('project', key the project id), in total ('total') and,
 * when $3 and $4 are given, per group of projects ('scope', key the group): $3 and $4 are
 * parallel arrays (group key, project id). A group's participants are distinct people across
 * its projects, which per-project counts cannot be added up to. One reading of the period's
 * acts serves all three: they are first reduced to one row per project and person (pairs),
 * counts only, in one in-memory hash; the amounts (votes, budgets) are summed apart. A part
 * can have two rows, its people's figures and its amounts (zeros elsewhere): they add up.
 */
export const ACTIVITY = `
  WITH ${ACTS},
  ${AMOUNTS},
  pairs AS MATERIALIZED (
    SELECT project_id, actor,${SUMS}
      FROM acts
     GROUP BY project_id, actor
  ),
  scopes AS (SELECT * FROM unnest($3::text[], $4::uuid[]) AS s(scope, project_id))
  SELECT 'project' AS part, project_id::text AS key,${PEOPLE_COUNTS}, ${NO_AMOUNTS}
    FROM pairs
   GROUP BY project_id
  UNION ALL
  SELECT 'total', NULL,${PEOPLE_COUNTS}, ${NO_AMOUNTS}
    FROM (SELECT actor,${PAIR_SUMS} FROM pairs GROUP BY actor) people
  UNION ALL
  SELECT 'scope', scope,${PEOPLE_COUNTS}, ${NO_AMOUNTS}
    FROM (SELECT s.scope, p.actor,${PAIR_SUMS} FROM pairs p JOIN scopes s ON s.project_id = p.project_id GROUP BY s.scope, p.actor) people
   GROUP BY scope
  UNION ALL
  SELECT 'project', project_id::text, 0, 0, 0, 0, 0, 0, 0,${AMOUNT_SUMS}
    FROM amounts
   GROUP BY project_id
  UNION ALL
  SELECT 'total', NULL, 0, 0, 0, 0, 0, 0, 0,${AMOUNT_SUMS}
    FROM amounts
  UNION ALL
  SELECT 'scope', s.scope, 0, 0, 0, 0, 0, 0, 0,${AMOUNT_SUMS}
    FROM amounts a
    JOIN scopes s ON s.project_id = a.project_id
   GROUP BY s.scope`;

/**
 * Activity totals in [$1, $2), counted without projects (peopleActs): the figures of a period
 * an e-mail only compares with. Two rows, people's and amounts, to add up.
 */
export const ACTIVITY_TOTALS = `
  WITH ${peopleActs(() => 'NULL::int')},
  ${AMOUNTS}
  SELECT ${PEOPLE_COUNTS.trim()}, ${NO_AMOUNTS}
    FROM (SELECT actor,${PAIR_SUMS} FROM people_acts GROUP BY actor) people
  UNION ALL
  SELECT 0, 0, 0, 0, 0, 0, 0,${AMOUNT_SUMS}
    FROM amounts`;

/**
 * The amounts (votes, budgets) of [$1, $2) alone, as the second row of ACTIVITY_TOTALS: for a
 * period whose people's figures come from MONTHLY_ACTIVITY's read.
 */
export const AMOUNT_TOTALS = `
  WITH ${AMOUNTS}
  SELECT 0 AS inputs, 0 AS survey_responses, 0 AS comments, 0 AS reactions, 0 AS ballots, 0 AS voters, 0 AS participants,${AMOUNT_SUMS}
    FROM amounts`;

/** Users who completed registration in [$1, $2). */
export const NEW_USERS = `
  SELECT count(*)::int AS new_users
    FROM users
   WHERE registration_completed_at >= $1::timestamp AND registration_completed_at < $2::timestamp`;

/**
 * Active accounts holding a platform role: registration completed and not blocked at $1.
 * roles is a jsonb array of {"type": "admin" (optionally "project_reviewer": true) |
 * "project_moderator" + project_id | "project_folder_moderator" + project_folder_id |
 * "space_moderator" + space_id, …}; directory.ts reads it.
 */
export const ROLE_HOLDERS = `
  SELECT id, lower(email) AS email, first_name, last_name, locale, roles
    FROM users
   WHERE roles <> '[]'::jsonb
     AND email IS NOT NULL
     AND registration_completed_at IS NOT NULL
     AND (block_end_at IS NULL OR block_end_at <= $1::timestamp)
   ORDER BY created_at, id`;

/** Platform accounts for addresses named in the config ($1 lower-cased e-mails), for their locale. */
export const USERS_BY_EMAIL = `
  SELECT id, lower(email) AS email, locale FROM users WHERE lower(email) = ANY($1::text[])`;

/** Folders with their slug and publication status. */
export const FOLDERS = `
  SELECT f.id, f.slug, f.title_multiloc, ap.publication_status
    FROM project_folders_folders f
    LEFT JOIN admin_publications ap ON ap.publication_type = 'ProjectFolders::Folder' AND ap.publication_id = f.id
   ORDER BY ap.lft NULLS LAST, f.created_at, f.id`;

/**
 * Every project's slug, folder and publication status: what audience scopes are resolved
 * against. `hidden`: the platform keeps it out of every public listing (projects.hidden, set for
 * the community monitor, whose internal_role says so too); `listed` false: reachable by link only.
 */
export const PROJECT_INDEX = `
  SELECT p.id, p.slug, p.title_multiloc, ap.publication_status, ap.first_published_at, fap.publication_id AS folder_id,
         (p.hidden OR p.internal_role IS NOT DISTINCT FROM 'community_monitor') AS hidden, p.listed, p.visible_to
    FROM projects p
    LEFT JOIN admin_publications ap ON ap.publication_type = 'Project' AND ap.publication_id = p.id
    LEFT JOIN admin_publications fap ON fap.id = ap.parent_id AND fap.publication_type = 'ProjectFolders::Folder'
   ORDER BY ap.lft NULLS LAST, p.created_at, p.id`;

/** Which of the users $2 opted out of the platform's e-mail campaign $1. */
export const OPTED_OUT = `
  SELECT user_id::text AS user_id FROM email_campaigns_consents
   WHERE campaign_type = $1 AND consented = false AND user_id::text = ANY($2::text[])`;

/** Every phase with its project and local dates (end_at NULL = open-ended); hidden projects' phases left out. */
export const PHASES = `
  SELECT ph.id, ph.project_id, ph.title_multiloc, ph.participation_method,
         to_char(ph.start_at, 'YYYY-MM-DD') AS start_at, to_char(ph.end_at, 'YYYY-MM-DD') AS end_at
    FROM phases ph
    JOIN projects p ON p.id = ph.project_id
   WHERE NOT p.hidden AND p.internal_role IS DISTINCT FROM 'community_monitor'
   ORDER BY ph.start_at NULLS LAST, ph.id`;

/** Events starting in [$1, $2). */
export const EVENTS_BETWEEN = `
  SELECT e.id, e.project_id, e.title_multiloc, e.location_multiloc, e.address_1, e.online_link, e.start_at, e.end_at
    FROM events e
   WHERE e.start_at >= $1::timestamp AND e.start_at < $2::timestamp
   ORDER BY e.start_at, e.id`;

/**
 * The inputs with most published comments created in [$1, $2): per project the $3 most
 * discussed (so every department's e-mail has its own), most discussed first overall. Hidden
 * projects (the community monitor) are left out. The period's comments are counted per input
 * first (their created_at index, the narrow side); only those inputs are then read, and the
 * titles only of those shown.
 */
export const MOST_DISCUSSED = `
  WITH discussed AS (
    SELECT c.idea_id, count(*)::int AS comments
      FROM comments c
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
     GROUP BY c.idea_id
  ), ranked AS (
    SELECT d.idea_id, i.project_id, d.comments, i.published_at,
           row_number() OVER (PARTITION BY i.project_id ORDER BY d.comments DESC, i.published_at, i.id) AS nth
      FROM discussed d
      -- One lookup per discussed input (OFFSET 0: not a hash of every idea).
      CROSS JOIN LATERAL (SELECT i.id, i.project_id, i.published_at, i.publication_status FROM ideas i WHERE i.id = d.idea_id OFFSET 0) i
      JOIN projects p ON p.id = i.project_id
     WHERE i.publication_status = 'published'
       AND NOT p.hidden AND p.internal_role IS DISTINCT FROM 'community_monitor'
  )
  SELECT i.id, i.project_id, i.slug, i.title_multiloc, r.comments
    FROM ranked r
    CROSS JOIN LATERAL (SELECT * FROM ideas i WHERE i.id = r.idea_id OFFSET 0) i
   WHERE r.nth <= $3
   ORDER BY r.comments DESC, r.published_at, r.idea_id`;

/**
 * Published inputs that moderators answer, published before $1 and not answered by then: the
 * moderation backlog. Per project: the $2 oldest, and how many there are in all.
 * Inputs that get an answer are the platform's "posts" (analytics_fact_posts): ideation and
 * voting inputs (no creation phase) and proposals; survey responses and common-ground
 * statements never wait for one. "Answered" is the platform's own definition
 * (analytics_build_feedbacks): an official feedback, or a status changed by a moderator
 * (activities 'changed_status' on the Idea).
 * The backlog is every such input of the platform, so this reads ideas once; it is ranked as
 * narrow rows (id, project, published_at: an in-memory sort) and the titles are read by primary
 * key only for the inputs shown (LATERAL, OFFSET 0: a planner guessing more rows would read
 * all of ideas again for them).
 */
export const UNANSWERED = `
  WITH open AS (
    -- Posts of listed projects, tested against the few proposal phases and hidden projects
    -- (hashed, tiny) instead of joining a phase and a project to each of the platform's inputs.
    SELECT i.id, i.project_id, i.published_at
      FROM ideas i
     WHERE i.publication_status = 'published' AND i.published_at < $1::timestamp
       AND (i.creation_phase_id IS NULL OR i.creation_phase_id IN (SELECT ph.id FROM phases ph WHERE ph.participation_method = 'proposals'))
       AND i.project_id NOT IN (SELECT p.id FROM projects p WHERE p.hidden OR p.internal_role IS NOT DISTINCT FROM 'community_monitor')
       AND i.project_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM official_feedbacks f WHERE f.idea_id = i.id AND f.created_at < $1::timestamp)
       AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.item_type = 'Idea' AND a.item_id = i.id AND a.action = 'changed_status' AND a.acted_at < $1::timestamp)
  ), ranked AS (
    SELECT id, project_id, published_at,
           row_number() OVER (PARTITION BY project_id ORDER BY published_at, id) AS nth,
           count(*) OVER (PARTITION BY project_id) AS in_project
      FROM open
  )
  SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count, r.in_project::int
    FROM ranked r
    CROSS JOIN LATERAL (SELECT * FROM ideas i WHERE i.id = r.id OFFSET 0) i
   WHERE r.nth <= $2
   ORDER BY r.published_at, r.id`;

/**
 * Inputs (not survey responses) published in [$1, $2), newest first, at most $3 per project;
 * hidden projects left out. Ranked as narrow rows; titles read for those shown.
 */
export const NEW_INPUTS = `
  WITH fresh AS (
    SELECT i.id, i.published_at,
           row_number() OVER (PARTITION BY i.project_id ORDER BY i.published_at DESC, i.id) AS nth
      FROM ideas i
      JOIN projects p ON p.id = i.project_id
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
       AND ph.participation_method IS DISTINCT FROM 'native_survey'
       AND ph.participation_method IS DISTINCT FROM 'community_monitor_survey'
       AND NOT p.hidden AND p.internal_role IS DISTINCT FROM 'community_monitor'
  )
  SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count
    FROM fresh f
    CROSS JOIN LATERAL (SELECT * FROM ideas i WHERE i.id = f.id OFFSET 0) i
   WHERE f.nth <= $3
   ORDER BY f.published_at DESC, f.id`;

/**
 * Participants and inputs per local calendar month ($3 is the IANA zone) in [$1, $2): the trend
 * charts ('month' rows). From peopleActs, grouped by month: a year of acts is a quarter of the
 * platform, and a chart of people needs no input's project. An act's month is found among the
 * months' first instants, converted to UTC once (width_bucket, a binary search in a dozen
 * timestamps), not by converting each of some millions of acts to the zone and truncating it.
 * Given $4 and $5, the first instants of two of those months, one more row ('period'): the
 * people's figures of [$4, $5) (PEOPLE_COUNTS), the (month, person) rows of its months regrouped
 * by person, so that a period a report compares with is not read from the platform again.
 */
export const MONTHLY_ACTIVITY = `
  WITH month_starts AS (
    SELECT array_agg((m AT TIME ZONE $3) AT TIME ZONE 'UTC' ORDER BY m) AS utc
      FROM generate_series(date_trunc('month', ($1::timestamp AT TIME ZONE 'UTC') AT TIME ZONE $3), ($2::timestamp AT TIME ZONE 'UTC') AT TIME ZONE $3, interval '1 month') m
  ),
  ${peopleActs((at) => `width_bucket(${at}, (SELECT utc FROM month_starts))`)}
  SELECT 'month' AS part, to_char(((SELECT utc FROM month_starts)[grp] AT TIME ZONE 'UTC') AT TIME ZONE $3, 'YYYY-MM') AS month,${PEOPLE_COUNTS}
    FROM (SELECT grp, actor,${PAIR_SUMS} FROM people_acts GROUP BY grp, actor) people
   GROUP BY grp
  UNION ALL
  SELECT 'period', NULL,${PEOPLE_COUNTS}
    FROM (SELECT actor,${PAIR_SUMS}
            FROM people_acts
           WHERE (SELECT utc FROM month_starts)[grp] >= $4::timestamp AND (SELECT utc FROM month_starts)[grp] < $5::timestamp
           GROUP BY actor) people
  HAVING $4::timestamp IS NOT NULL
   ORDER BY part, month`;

/*
 * What `crier doctor` asks the platform database about itself (src/platform/advice.ts), all
 * read-only.
 */

/** The server, and whether this session is read-only (it must be). */
export const SERVER_INFO = `
  SELECT current_setting('server_version') AS version, current_setting('default_transaction_read_only') AS read_only, current_schema() AS schema`;

/**
 * A query's plan as it runs now, with the rows each step read and kept (TIMING OFF: per-row
 * clock reads would slow it): prefixed to one of the named queries above, with its parameters.
 */
export const EXPLAIN_PREFIX = `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)`;

/**
 * A whole-table read for a time slice of tenant table `table` by `column` in [$1, $2) (either
 * bound NULL: open), as a plan without an index on the column does it: what such an index would
 * spare; with the rows in the slice and in all. Identifiers are the plan's own, quoted.
 */
export const RANGE_SCAN = (table: string, column: string) => {
  const [t, c] = [table, column].map((x) => `"${x.replace(/"/g, '""')}"`);
  return `SELECT count(*) FILTER (WHERE ($1::timestamp IS NULL OR ${c} >= $1::timestamp) AND ($2::timestamp IS NULL OR ${c} < $2::timestamp)) AS kept, count(*) AS read FROM ${t}`;
};

/** The columns of tenant table $1 and their types. */
export const TABLE_COLUMNS = `
  SELECT column_name, data_type FROM information_schema.columns
   WHERE table_schema = current_schema() AND table_name = $1`;

/** The leading column of each index on tenant table $1 (what a range scan on that column can use). */
export const TABLE_INDEX_COLUMNS = `
  SELECT a.attname AS column_name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
   WHERE n.nspname = current_schema() AND c.relname = $1`;
