// Sign-in messages the form also recognises (no server-only: the client form imports it).

/** The password was right and the account has a second factor: the form then asks for the code. */
export const CODE_REQUIRED_MESSAGE = "Enter the 6-digit code from your authenticator app (or a recovery code).";
export const CODE_INVALID_MESSAGE = "Wrong or already used code.";
export const CODE_LOCKED_MESSAGE = "Too many wrong codes for this account. Try again in 15 minutes.";
export const ENROLMENT_REQUIRED_MESSAGE =
  "Owners must sign in with a second factor, and this account has none. Ask another Owner, or run `npx gatehouse auth totp --not-required` on the server.";

/** Messages after which the form shows the code field. */
export const CODE_MESSAGES: readonly string[] = [CODE_REQUIRED_MESSAGE, CODE_INVALID_MESSAGE, CODE_LOCKED_MESSAGE];
