/*
 * Every query Crier runs against the platform, one named constant each, written against
 * ../shared/reference/citizenlab-tenant-schema.sql (copied to govocal-schema.sql). Columns are
 * always named: a real tenant has many more. Timestamps in the platform are UTC without zone,
 * so period bounds are passed as UTC 'YYYY-MM-DD HH:MI:SS.MS' text ($1 inclusive, $2 exclusive).
 */

/** Does the tenant schema exist? $1 schema name. */
export const TENANT_SCHEMA_EXISTS = `
  SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists`;

/** The tenant's settings (time zone, locales, organisation name). */
export const APP_CONFIGURATION = `
  SELECT host, settings FROM app_configurations ORDER BY created_at LIMIT 1`;

/**
 * Activity in [$1, $2), per project and in total (is_total). Each row of `events` is one act by
 * one participant; participants are distinct actors, an anonymous author counting by author_hash.
 * A reaction on a comment belongs to the comment's idea's project; votes are baskets_ideas.votes
 * of baskets submitted in the period.
 */
export const ACTIVITY_BY_PROJECT = `
  WITH events AS (
    SELECT CASE WHEN ph.participation_method = 'native_survey' THEN 'survey' ELSE 'input' END AS kind,
           i.project_id,
           COALESCE(i.author_id::text, 'anonymous:' || i.author_hash) AS actor,
           0 AS votes
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
    UNION ALL
    SELECT 'comment', i.project_id, COALESCE(c.author_id::text, 'anonymous:' || c.author_hash), 0
      FROM comments c
      JOIN ideas i ON i.id = c.idea_id
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
    UNION ALL
    SELECT 'reaction', i.project_id, r.user_id::text, 0
      FROM reactions r
      JOIN ideas i ON r.reactable_type = 'Idea' AND i.id = r.reactable_id
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
    UNION ALL
    SELECT 'reaction', i.project_id, r.user_id::text, 0
      FROM reactions r
      JOIN comments c ON r.reactable_type = 'Comment' AND c.id = r.reactable_id
      JOIN ideas i ON i.id = c.idea_id
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
    UNION ALL
    SELECT 'vote', i.project_id, b.user_id::text, bi.votes
      FROM baskets b
      JOIN baskets_ideas bi ON bi.basket_id = b.id
      JOIN ideas i ON i.id = bi.idea_id
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp
  )
  SELECT project_id,
         GROUPING(project_id) = 1                     AS is_total,
         count(*) FILTER (WHERE kind = 'input')::int   AS inputs,
         count(*) FILTER (WHERE kind = 'survey')::int  AS survey_responses,
         count(*) FILTER (WHERE kind = 'comment')::int AS comments,
         count(*) FILTER (WHERE kind = 'reaction')::int AS reactions,
         COALESCE(sum(votes) FILTER (WHERE kind = 'vote'), 0)::int AS votes,
         count(DISTINCT actor)::int                    AS participants
    FROM events
   GROUP BY GROUPING SETS ((project_id), ())`;

/** Users who completed registration in [$1, $2). */
export const NEW_USERS = `
  SELECT count(*)::int AS new_users
    FROM users
   WHERE registration_completed_at >= $1::timestamp AND registration_completed_at < $2::timestamp`;

/**
 * Active accounts holding a platform role: registration completed and not blocked at $1.
 * roles is a jsonb array of {"type": "admin" | "project_moderator" | "project_folder_moderator", …}.
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

/** Every project's slug, folder and publication status: what audience scopes are resolved against. */
export const PROJECT_INDEX = `
  SELECT p.id, p.slug, p.title_multiloc, ap.publication_status, ap.first_published_at, fap.publication_id AS folder_id
    FROM projects p
    LEFT JOIN admin_publications ap ON ap.publication_type = 'Project' AND ap.publication_id = p.id
    LEFT JOIN admin_publications fap ON fap.id = ap.parent_id AND fap.publication_type = 'ProjectFolders::Folder'
   ORDER BY ap.lft NULLS LAST, p.created_at, p.id`;

/** Which of the users $2 opted out of the platform's e-mail campaign $1. */
export const OPTED_OUT = `
  SELECT user_id::text AS user_id FROM email_campaigns_consents
   WHERE campaign_type = $1 AND consented = false AND user_id::text = ANY($2::text[])`;

/** Every phase with its project and local dates (end_at NULL = open-ended). */
export const PHASES = `
  SELECT ph.id, ph.project_id, ph.title_multiloc, ph.participation_method,
         to_char(ph.start_at, 'YYYY-MM-DD') AS start_at, to_char(ph.end_at, 'YYYY-MM-DD') AS end_at
    FROM phases ph
   ORDER BY ph.start_at NULLS LAST, ph.id`;

/** Events starting in [$1, $2). */
export const EVENTS_BETWEEN = `
  SELECT e.id, e.project_id, e.title_multiloc, e.location_multiloc, e.address_1, e.online_link, e.start_at, e.end_at
    FROM events e
   WHERE e.start_at >= $1::timestamp AND e.start_at < $2::timestamp
   ORDER BY e.start_at, e.id`;

/**
 * The inputs with most published comments created in [$1, $2): per project the $3 most
 * discussed (so every department's e-mail has its own), most discussed first overall.
 */
export const MOST_DISCUSSED = `
  WITH discussed AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, count(c.id)::int AS comments
      FROM comments c
      JOIN ideas i ON i.id = c.idea_id
     WHERE c.publication_status = 'published'
       AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
       AND i.publication_status = 'published'
     GROUP BY i.id
  ), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY project_id ORDER BY comments DESC, published_at, id) AS nth FROM discussed
  )
  SELECT id, project_id, slug, title_multiloc, comments FROM ranked
   WHERE nth <= $3
   ORDER BY comments DESC, published_at, id`;

/**
 * Published inputs (not survey responses) published before $1 without any official feedback:
 * the moderation backlog. Per project: the $2 oldest, and how many there are in all.
 */
export const UNANSWERED = `
  WITH open AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count,
           row_number() OVER (PARTITION BY i.project_id ORDER BY i.published_at, i.id) AS nth,
           count(*) OVER (PARTITION BY i.project_id) AS in_project
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published' AND i.published_at < $1::timestamp
       AND ph.participation_method IS DISTINCT FROM 'native_survey'
       AND NOT EXISTS (SELECT 1 FROM official_feedbacks f WHERE f.idea_id = i.id)
  )
  SELECT id, project_id, slug, title_multiloc, published_at, comments_count, in_project::int
    FROM open WHERE nth <= $2
   ORDER BY published_at, id`;

/** Inputs (not survey responses) published in [$1, $2), newest first, at most $3 per project. */
export const NEW_INPUTS = `
  WITH fresh AS (
    SELECT i.id, i.project_id, i.slug, i.title_multiloc, i.published_at, i.comments_count,
           row_number() OVER (PARTITION BY i.project_id ORDER BY i.published_at DESC, i.id) AS nth
      FROM ideas i
      LEFT JOIN phases ph ON ph.id = i.creation_phase_id
     WHERE i.publication_status = 'published'
       AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
       AND ph.participation_method IS DISTINCT FROM 'native_survey'
  )
  SELECT id, project_id, slug, title_multiloc, published_at, comments_count FROM fresh WHERE nth <= $3
   ORDER BY published_at DESC, id`;

/**
 * Distinct participants and inputs per local calendar month ($3 is the IANA zone) in [$1, $2):
 * the trend charts. Same acts as ACTIVITY_BY_PROJECT.
 */
export const MONTHLY_ACTIVITY = `
  WITH events AS (
    SELECT i.published_at AS at, COALESCE(i.author_id::text, 'anonymous:' || i.author_hash) AS actor, 'input' AS kind
      FROM ideas i
     WHERE i.publication_status = 'published' AND i.published_at >= $1::timestamp AND i.published_at < $2::timestamp
    UNION ALL
    SELECT c.created_at, COALESCE(c.author_id::text, 'anonymous:' || c.author_hash), 'comment'
      FROM comments c
     WHERE c.publication_status = 'published' AND c.created_at >= $1::timestamp AND c.created_at < $2::timestamp
    UNION ALL
    SELECT r.created_at, r.user_id::text, 'reaction'
      FROM reactions r
     WHERE r.created_at >= $1::timestamp AND r.created_at < $2::timestamp
    UNION ALL
    SELECT b.submitted_at, b.user_id::text, 'vote'
      FROM baskets b
     WHERE b.submitted_at >= $1::timestamp AND b.submitted_at < $2::timestamp
  )
  SELECT to_char(date_trunc('month', (at AT TIME ZONE 'UTC') AT TIME ZONE $3), 'YYYY-MM') AS month,
         count(DISTINCT actor)::int AS participants,
         count(*) FILTER (WHERE kind = 'input')::int AS inputs
    FROM events
   GROUP BY 1
   ORDER BY 1`;
