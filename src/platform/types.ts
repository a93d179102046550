/*
 * The platform's own shapes, as Crier reads them: owned here, where they are read, and used
 * by the layers above (rendering, audiences, the ledger).
 */

/** A platform multiloc: {"nl-BE": "…", "fr-BE": "…"}. */
export type Multiloc = Record<string, string> | null | undefined;

/** The part of the platform a recipient's e-mail covers (folder and project ids); absent keys mean all of it. */
export interface RecipientScope {
  folders?: string[];
  projects?: string[];
}
