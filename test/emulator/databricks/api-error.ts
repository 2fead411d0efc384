/** An error the Databricks emulator turns into its documented response. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /**
     * Errors from the authentication gateway: `error_code` is the HTTP status as an
     * integer and the message is repeated in X-Databricks-Reason-Phrase.
     */
    readonly gateway = false,
  ) {
    super(message);
  }
}

export function invalidParam(message: string): ApiError {
  return new ApiError(400, 'INVALID_PARAMETER_VALUE', message);
}

export function notFound(path: string): ApiError {
  return new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${path}) doesn't exist.`);
}
