// The log of requests the emulator answered, for tests that assert on what Azure saw
// ("zero PUTs", "one DELETE"). Admin routes are not logged.

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** When the response was sent (emulator time). */
  time: string;
  /** How long the emulator took to answer, from receiving the request to sending the response. */
  durationMs: number;
  /** The client's User-Agent (azure-ai-ml, @azure/arm-machinelearning, ...): whose request it was. */
  userAgent?: string;
  /** The parsed JSON body of a write (PUT, PATCH, POST), as received; listed by GET /_emulator/requests?bodies=1. */
  body?: unknown;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly limit: number) {}

  add(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  list(): readonly LoggedRequest[] {
    return this.entries;
  }

  clear(): void {
    this.entries = [];
  }
}
