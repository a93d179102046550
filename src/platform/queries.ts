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

/**
 * Every act of participation in [$1, $2), one row each: (kind, project_id, actor, amount, at).
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
 * An actor is a person (an anonymous author counts by author_hash); offline votes have none.
 * A reaction on a comment belongs to the comment's idea's project.
 */
const ACTS = `
  acts AS (
    SELECT CASE WHEN ph.participation_method IN ('native_survey', 'community_monitor_survey') THEN 'survey' ELSE 'input' END AS kind,
           i.project_id, COALESCE(i.author_id::text, 'anonymous:' || i.author_hash) AS actor, 0::bigint AS amount, i.published_at AS at
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
    UNION ALL
    SELECT 'comment', i.project_id, COALESCE(c.author_id::text, 'anonymous:' || c.author_hash), 0, c.created_at
      FROM comments c
      JOIN ideas i ON i.id = c.idea_id
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
    UNION ALL
    SELECT 'reaction', i.project_id, r.user_id::text, 0, r.created_at
      FROM reactions r
      JOIN ideas i ON r.reactable_type = 'Idea' AND i.id = r.reactable_id
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
    UNION ALL
    SELECT 'reaction', i.project_id, r.user_id::text, 0, r.created_at
      FROM reactions r
      JOIN comments c ON r.reactable_type = 'Comment' AND c.id = r.reactable_id
      JOIN ideas i ON i.id = c.idea_id
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
    UNION ALL
    SELECT 'survey', ph.project_id, COALESCE(pr.user_id::text, 'poll:' || pr.id), 0, pr.created_at
      FROM polls_responses pr
      JOIN phases ph ON ph.id = pr.phase_id
     WHERE pr.created_at >= $1::timestamp AND pr.created_at < $2::timestamp
    UNION ALL
    SELECT 'volunteer', ph.project_id, v.user_id::text, 0, v.created_at
      FROM volunteering_volunteers v
      JOIN volunteering_causes vc ON vc.id = v.cause_id
      JOIN phases ph ON ph.id = vc.phase_id
     WHERE v.created_at >= $1::timestamp AND v.created_at < $2::timestamp
    UNION ALL
    SELECT 'attendance', e.project_id, a.attendee_id::text, 0, a.created_at
      FROM events_attendances a
      JOIN events e ON e.id = a.event_id
     WHERE a.created_at >= $1::timestamp AND a.created_at < $2::timestamp
    UNION ALL
    SELECT 'ballot', ph.project_id, b.user_id::text, 0, b.submitted_at
      FROM baskets b
      JOIN phases ph ON ph.id = b.phase_id
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp
    UNION ALL
    SELECT CASE WHEN ph.voting_method = 'budgeting' THEN 'budget' ELSE 'vote' END, ph.project_id, NULL, bi.votes, b.submitted_at
      FROM baskets b
      JOIN baskets_ideas bi ON bi.basket_id = b.id
      JOIN phases ph ON ph.id = b.phase_id
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp
    UNION ALL
    SELECT CASE WHEN ph.voting_method = 'budgeting' THEN 'offline-budget' ELSE 'offline-vote' END, i.project_id, NULL,
           CASE WHEN ph.voting_method = 'budgeting' THEN i.manual_votes_amount::bigint * COALESCE(i.budget, 0) ELSE i.manual_votes_amount END,
           i.manual_votes_last_updated_at
      FROM ideas i
      -- manual_votes_amount is one running total per idea: it belongs to one voting phase, the
      -- latest the idea is in, however many it was in.
      CROSS JOIN LATERAL (
        SELECT vp.voting_method FROM ideas_phases ip JOIN phases vp ON vp.id = ip.phase_id
         WHERE ip.idea_id = i.id AND vp.participation_method = 'voting'
         ORDER BY vp.start_at DESC NULLS LAST, vp.id LIMIT 1
      ) ph
     WHERE i.manual_votes_amount > 0
       AND i.manual_votes_last_updated_at >= $1::timestamp AND i.manual_votes_last_updated_at < $2::timestamp
    UNION ALL
    SELECT 'offline-voters', ph.project_id, NULL, ph.manual_voters_amount, ph.manual_voters_last_updated_at
      FROM phases ph
     WHERE ph.participation_method = 'voting' AND ph.manual_voters_amount > 0
       AND ph.manual_voters_last_updated_at >= $1::timestamp AND ph.manual_voters_last_updated_at < $2::timestamp
  )`;

/** The figures of a group of acts; the same columns for every grouping. */
const COUNTS = `
         count(*) FILTER (WHERE kind = 'input')::int                                  AS inputs,
         count(*) FILTER (WHERE kind = 'survey')::int                                 AS survey_responses,
         count(*) FILTER (WHERE kind = 'comment')::int                                AS comments,
         count(*) FILTER (WHERE kind = 'reaction')::int                               AS reactions,
         count(*) FILTER (WHERE kind = 'ballot')::int                                 AS ballots,
         count(DISTINCT actor) FILTER (WHERE kind = 'ballot')::int                    AS voters,
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-voters'), 0)::int         AS offline_voters,
         COALESCE(sum(amount) FILTER (WHERE kind IN ('vote', 'offline-vote')), 0)::int AS votes,
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-vote'), 0)::int           AS offline_votes,
         COALESCE(sum(amount) FILTER (WHERE kind IN ('budget', 'offline-budget')), 0)::bigint AS budget,
         COALESCE(sum(amount) FILTER (WHERE kind = 'offline-budget'), 0)::bigint      AS offline_budget,
         count(DISTINCT actor)::int                                                   AS participants`;

/** Activity in [$1, $2), per project and in total (is_total). */
export const ACTIVITY_BY_PROJECT = `
  WITH ${ACTS}
  SELECT project_id, GROUPING(project_id) = 1 AS is_total,${COUNTS}
    FROM acts
   GROUP BY GROUPING SETS ((project_id), ())`;

/**
 * Activity in [$1, $2) per group of projects: $3 and $4 are parallel arrays (group key,
 * project id). A department's participants are distinct people across its projects, which
 * per-project counts cannot be added up to.
 */
export const ACTIVITY_BY_SCOPE = `
  WITH ${ACTS},
  scopes AS (SELECT * FROM unnest($3::text[], $4::uuid[]) AS s(scope, project_id))
  SELECT s.scope,${COUNTS}
    FROM acts
    JOIN scopes s ON s.project_id = acts.project_id
   GROUP BY s.scope`;

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
 * projects (the community monitor) are left out.
 */
export const MOST_DISCUSSED = `
  WITH discussed AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, count(c.id)::int AS comments
      FROM comments c
      JOIN ideas i ON i.id = c.idea_id
      JOIN projects p ON p.id = i.project_id
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
       AND i.publication_status = 'published'
       AND NOT p.hidden AND p.internal_role IS DISTINCT FROM 'community_monitor'
     GROUP BY i.id
  ), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY project_id ORDER BY comments DESC, published_at, id) AS nth FROM discussed
  )
  SELECT id, project_id, slug, title_multiloc, comments FROM ranked
   WHERE nth <= $3
   ORDER BY comments DESC, published_at, id`;

/**
 * Published inputs that moderators answer, published before $1 and not answered by then: the
 * moderation backlog. Per project: the $2 oldest, and how many there are in all.
 * Inputs that get an answer are the platform's "posts" (analytics_fact_posts): ideation and
 * voting inputs (no creation phase) and proposals; survey responses and common-ground
 * statements never wait for one. "Answered" is the platform's own definition
 * (analytics_build_feedbacks): an official feedback, or a status changed by a moderator
 * (activities 'changed_status' on the Idea).
 */
export const UNANSWERED = `
  WITH open AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count,
           row_number() OVER (PARTITION BY i.project_id ORDER BY i.published_at, i.id) AS nth,
           count(*) OVER (PARTITION BY i.project_id) AS in_project
      FROM ideas i
      JOIN projects p ON p.id = i.project_id
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published' AND i.published_at < $1::timestamp
       AND (i.creation_phase_id IS NULL OR ph.participation_method = 'proposals')
       AND NOT p.hidden AND p.internal_role IS DISTINCT FROM 'community_monitor'
       AND NOT EXISTS (SELECT 1 FROM official_feedbacks f WHERE f.idea_id = i.id AND f.created_at < $1::timestamp)
       AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.item_type = 'Idea' AND a.item_id = i.id AND a.action = 'changed_status' AND a.acted_at < $1::timestamp)
  )
  SELECT id, project_id, slug, title_multiloc, published_at, comments_count, in_project::int
    FROM open WHERE nth <= $2
   ORDER BY published_at, id`;

/**
 * Inputs (not survey responses) published in [$1, $2), newest first, at most $3 per project;
 * hidden projects left out.
 */
export const NEW_INPUTS = `
  WITH fresh AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count,
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
  SELECT id, project_id, slug, title_multiloc, published_at, comments_count FROM fresh WHERE nth <= $3
   ORDER BY published_at DESC, id`;

/**
 * Distinct participants and inputs per local calendar month ($3 is the IANA zone) in [$1, $2):
 * the trend charts. The same acts as ACTIVITY_BY_PROJECT.
 */
export const MONTHLY_ACTIVITY = `
  WITH ${ACTS}
  SELECT to_char(date_trunc('month', (at AT TIME ZONE 'UTC') AT TIME ZONE $3), 'YYYY-MM') AS month,
         count(DISTINCT actor)::int AS participants,
         count(*) FILTER (WHERE kind = 'input')::int AS inputs
    FROM acts
   GROUP BY 1
   ORDER BY 1`;
