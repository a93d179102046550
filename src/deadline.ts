/** `what`, or an error once `ms` have passed; what is still under way is left to end on its own. */
export function within<T>(ms: number, what: Promise<T>, message = `no answer within ${ms / 1000} s`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([what, late]).finally(() => clearTimeout(timer));
}
