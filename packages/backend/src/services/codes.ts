import { randomBytes } from 'node:crypto';

/** Upper-case letters and digits without the look-alikes 0/O, 1/I/L: easy to read out and type. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A random code of `length` characters from ALPHABET (about 4.95 bits each; no modulo bias). */
export function randomCode(length: number): string {
  let code = '';
  while (code.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 8 × 31: bytes above it would favour the first letters.
      if (byte < 248 && code.length < length) code += ALPHABET[byte % ALPHABET.length];
    }
  }
  return code;
}

/** Invite codes of private playgrounds: 12 characters, about 59 bits. */
export const INVITE_CODE_LENGTH = 12;
/** Party codes: 8 characters, about 40 bits. */
export const PARTY_CODE_LENGTH = 8;
