-- Queries only the survey reminder needs; the shared ones are in src/platform/queries.ts.
-- Run through the read-only platform connection, with the tenant schema on the search_path.

-- name: surveysEnding
-- Native-survey phases of published projects whose last day is in [$1, $2) (local dates), with
-- their published responses before $4 and since $3 (UTC timestamps, like every platform time).
-- A survey's responses are its project's ideas created in that phase: counted through
-- ideas.project_id for the few surveys closing (the platform has no index on creation_phase_id,
-- and a join would read every idea).
SELECT ph.id, ph.project_id, ph.title_multiloc, ph.native_survey_title_multiloc,
       to_char(ph.start_at, 'YYYY-MM-DD') AS start_at, to_char(ph.end_at, 'YYYY-MM-DD') AS end_at,
       r.responses, r.recent
  FROM phases ph
  JOIN projects p ON p.id = ph.project_id
  JOIN admin_publications ap ON ap.publication_type = 'Project' AND ap.publication_id = p.id AND ap.publication_status = 'published'
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE i.publication_status = 'published' AND i.published_at < $4::timestamp)::int AS responses,
           count(*) FILTER (WHERE i.publication_status = 'published' AND i.published_at >= $3::timestamp AND i.published_at < $4::timestamp)::int AS recent
      FROM ideas i
     WHERE i.project_id = ph.project_id AND i.creation_phase_id = ph.id
  ) r
 WHERE ph.participation_method = 'native_survey'
   AND ph.end_at >= $1::date AND ph.end_at < $2::date
   AND NOT p.hidden
 ORDER BY ph.end_at, ph.id
