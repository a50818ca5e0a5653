/** Every request the emulator answered, for assertions like "exactly one AssociateAddress". */

export interface CallRecord {
  seq: number;
  /** The Action parameter as sent ('' when missing). */
  action: string;
  params: Record<string, string>;
  /** Receipt time (emulator clock, ms). */
  time: number;
  durationMs: number;
  status: number;
  /** EC2 error code for non-2xx answers. */
  errorCode?: string;
  requestId: string;
  accessKeyId?: string;
}

export class CallLog {
  private readonly records: CallRecord[] = [];
  private seq = 0;

  get all(): readonly CallRecord[] {
    return this.records;
  }

  of(action: string): CallRecord[] {
    return this.records.filter((r) => r.action === action);
  }

  count(action: string, filter: { ok?: boolean; errorCode?: string } = {}): number {
    return this.of(action).filter(
      (r) =>
        (filter.ok === undefined || r.status < 300 === filter.ok) &&
        (filter.errorCode === undefined || r.errorCode === filter.errorCode),
    ).length;
  }

  clear(): void {
    this.records.length = 0;
  }

  add(record: Omit<CallRecord, 'seq'>): void {
    this.seq += 1;
    this.records.push({ seq: this.seq, ...record });
  }
}
