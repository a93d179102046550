/** One part of `npm run bench`: what it measured, as a Markdown section for BENCHMARKS.md. */
export interface BenchSection {
  /** The section's heading in BENCHMARKS.md ("Render", "Send path", …). */
  title: string;
  /** The measurement as Markdown: how it was measured, a table of figures, the ratios. */
  markdown: string;
  /** Whether the target for this section was met, in one line ("0.86 of the bare pool ≥ 0.8: met"). */
  verdict: string;
}

/** A benchmark section: runs its measurements (side by side, in this one run) and reports them. */
export type Bench = () => Promise<BenchSection>;
