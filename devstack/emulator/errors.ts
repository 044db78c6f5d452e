// Every error the emulator answers with, in ARM's envelope `{"error":{"code","message"}}`.
// Route code throws; the central error handler in server.ts renders.

export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export interface ArmErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: ArmErrorDetail[];
    additionalInfo?: { type: string; info: Record<string, unknown> }[];
  };
}

export interface ArmErrorExtras {
  details?: ArmErrorDetail[];
  additionalInfo?: { type: string; info: Record<string, unknown> }[];
}

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly headers: Record<string, string> = {},
    readonly extras: ArmErrorExtras = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  toBody(): ArmErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.target ? { target: this.target } : {}),
        ...(this.extras.details ? { details: this.extras.details } : {}),
        ...(this.extras.additionalInfo ? { additionalInfo: this.extras.additionalInfo } : {}),
      },
    };
  }
}

/** How the Azure ML management front end answers a request that breaks the API contract (a body,
 *  path or query value the swagger does not allow): 400 BadRequest "The request is invalid." with
 *  one detail per problem and the component name in additionalInfo. */
export function invalidRequest(issues: readonly { target: string; message: string }[]): ArmError {
  const only = issues.length === 1 ? issues[0] : undefined;
  return new ArmError(
    400,
    'BadRequest',
    'The request is invalid.',
    only?.target,
    {},
    {
      details: issues.map((i) => ({ code: 'ValidationError', message: i.message, target: i.target })),
      additionalInfo: [{ type: 'ComponentName', info: { value: 'managementfrontend' } }],
    },
  );
}

/** A 400 for a request field the caller must fix; `target` names the field. */
export function userError(target: string, message: string): ArmError {
  return new ArmError(400, 'UserError', message, target);
}

export function notFound(kind: string, name: string, scope?: string): ArmError {
  const where = scope ? ` under ${scope}` : '';
  return new ArmError(404, 'ResourceNotFound', `The ${kind} '${name}'${where} was not found.`);
}

export function parentNotFound(parent: string): ArmError {
  return new ArmError(
    404,
    'ParentResourceNotFound',
    `Can not perform requested operation on nested resource. Parent resource '${parent}' not found.`,
  );
}

export function conflict(message: string): ArmError {
  return new ArmError(409, 'Conflict', message);
}

/** MLflow REST errors have their own shape: `{"error_code","message"}`. */
export class MlflowError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}
