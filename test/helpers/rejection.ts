// The error a promise rejects with, when it is of the expected class (for asserting on its fields).

/** Resolves with the rejection of `p` if it is a `type`; fails when `p` resolves or rejects with anything else. */
export async function rejection<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}
