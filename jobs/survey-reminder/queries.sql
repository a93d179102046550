-- Queries only the survey reminder needs; the shared ones are in src/platform/queries.ts.
-- Run through the read-only platform connection, with the tenant schema on the search_path.

-- name: surveysEnding
-- Native-survey phases of public projects whose last day is in [$1, $2) (local dates), with
-- their published responses in all and since $3 (a UTC timestamp, like every platform time).
SELECT ph.id, ph.project_id, ph.title_multiloc, ph.native_survey_title_multiloc,
       to_char(ph.start_at, 'YYYY-MM-DD') AS start_at, to_char(ph.end_at, 'YYYY-MM-DD') AS end_at,
       count(i.id) FILTER (WHERE i.publication_status = 'published')::int AS responses,
       count(i.id) FILTER (WHERE i.publication_status = 'published' AND i.published_at >= $3::timestamp)::int AS recent
  FROM phases ph
  JOIN projects p ON p.id = ph.project_id
  LEFT JOIN ideas i ON i.creation_phase_id = ph.id
 WHERE ph.participation_method = 'native_survey'
   AND ph.end_at >= $1::date AND ph.end_at < $2::date
   AND NOT p.hidden
 GROUP BY ph.id
 ORDER BY ph.end_at, ph.id
