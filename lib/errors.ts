// Typed errors: the code is the API's error.code; the message is safe to show.
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_field: 400,
  unauthenticated: 401,
  forbidden: 403,
  member_not_allowed: 403,
  dms_disabled: 403,
  channel_not_enabled: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  locked: 423,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly fields?: { field: string; message: string }[];
  constructor(code: ErrorCode, message: string, opts: { field?: string; fields?: { field: string; message: string }[] } = {}) {
    super(message);
    this.code = code;
    this.field = opts.field ?? opts.fields?.[0]?.field;
    this.fields = opts.fields;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): { error: { code: ErrorCode; message: string; field?: string; fields?: { field: string; message: string }[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.fields ? { fields: this.fields } : {}),
      },
    };
  }
}

export function invalid(field: string, message: string): AppError {
  return new AppError("invalid_field", `${field}: ${message}`, { field });
}
