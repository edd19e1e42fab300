/** A URL setting: one of the given protocols, else the message names an example. */
import { z } from 'zod';

export function urlOf(protocols: readonly string[], expected: string) {
  return z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, expected);
}
