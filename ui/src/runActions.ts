// Cancel, resume and the endpoint's keep-alive, offered as the key's scopes allow (fine-tunes:write) and
// as the run's state allows; the server checks the key on every call whatever the page shows. Keep-alive
// is there only when the server's OpenAPI document lists POST /v1/fine-tunes/{id}/keep-alive.
import { ApiError, WRITE_SCOPE, type RunRecord } from './api';
import type { Context } from './context';
import { el, formatTime, setText } from './dom';

const ENDED_RESUMABLE = new Set(['failed', 'cancelled', 'terminated', 'timed-out']);

export class RunActions {
  readonly element: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private readonly confirm: HTMLElement;
  private readonly resume: HTMLButtonElement;
  private readonly keepAlive: HTMLElement;
  private readonly extendMinutes: HTMLInputElement;
  private readonly extend: HTMLButtonElement;
  private readonly endNow: HTMLButtonElement;
  private readonly notice: HTMLElement;
  private readonly problem: HTMLElement;
  private run: RunRecord | undefined;
  private busy = false;
  private cancelRequested = false;

  constructor(
    private readonly ctx: Context,
    runId: string,
    private readonly changed: () => void,
  ) {
    const why = ctx.canWrite ? '' : `your key (${ctx.key.id}) lacks ${WRITE_SCOPE}`;
    this.cancel = el('button', { type: 'button', class: 'danger', 'data-testid': 'cancel' }, 'Cancel run');
    const yes = el('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-cancel' }, 'Yes, cancel it');
    const no = el('button', { type: 'button', class: 'secondary' }, 'Keep it running');
    this.confirm = el(
      'div',
      { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'confirm cancellation' },
      'Cancel this run? Its Azure job is cancelled and its endpoint deleted. ',
      yes,
      ' ',
      no,
    );
    this.resume = el('button', { type: 'button', 'data-testid': 'resume' }, 'Resume');
    this.extendMinutes = el('input', {
      type: 'number',
      min: 1,
      max: 1440,
      value: 30,
      'aria-label': 'minutes to extend by',
      'data-testid': 'extend-minutes',
    });
    this.extend = el('button', { type: 'button', 'data-testid': 'extend' }, 'Extend');
    this.endNow = el('button', { type: 'button', class: 'secondary', 'data-testid': 'end-now' }, 'End now');
    this.keepAlive = el(
      'span',
      { class: 'keep-alive', 'data-testid': 'keep-alive', hidden: !ctx.keepAliveRoute },
      'Endpoint keep-alive: ',
      this.extendMinutes,
      ' min ',
      this.extend,
      ' ',
      this.endNow,
    );
    this.notice = el('p', { class: 'notice', role: 'status', 'data-testid': 'action-notice' });
    this.problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'action-error', hidden: true });
    for (const b of [this.cancel, this.resume, this.extend, this.endNow]) if (why) b.title = why;

    this.cancel.addEventListener('click', () => {
      this.confirm.hidden = false;
      this.cancel.hidden = true;
    });
    no.addEventListener('click', () => this.closeConfirm());
    yes.addEventListener('click', () =>
      this.act(async () => {
        this.closeConfirm();
        const outcome = await ctx.api.cancel(runId);
        this.cancelRequested = true;
        return outcome.message ?? `cancellation requested (${outcome.cleanup})`;
      }),
    );
    this.resume.addEventListener('click', () =>
      this.act(async () => {
        const outcome = await ctx.api.resume(runId);
        this.cancelRequested = false;
        return `resumed (it was ${outcome.previousStatus})`;
      }),
    );
    this.extend.addEventListener('click', () =>
      this.act(async () => {
        const minutes = Number(this.extendMinutes.value);
        if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('give the minutes to extend by');
        await ctx.api.keepAlive(runId, { extendMinutes: Math.round(minutes) });
        return `endpoint kept alive ${minutes} more minutes`;
      }),
    );
    this.endNow.addEventListener('click', () =>
      this.act(async () => {
        await ctx.api.keepAlive(runId, { end: true });
        return 'the endpoint is being deleted now';
      }),
    );

    this.element = el(
      'div',
      { class: 'actions', 'data-testid': 'actions' },
      el(
        'div',
        { class: 'buttons' },
        this.cancel,
        this.confirm,
        ' ',
        this.resume,
        ' ',
        this.keepAlive,
        ctx.canWrite ? null : el('span', { class: 'muted', 'data-testid': 'read-only' }, ` read-only: ${why}`),
      ),
      this.notice,
      this.problem,
    );
    this.refresh();
  }

  update(run: RunRecord): void {
    this.run = run;
    if (run.status !== 'running') this.cancelRequested = false;
    this.refresh();
  }

  private closeConfirm(): void {
    this.confirm.hidden = true;
    this.cancel.hidden = false;
  }

  private refresh(): void {
    const run = this.run;
    const can = this.ctx.canWrite && !this.busy && run !== undefined;
    const running = run?.status === 'running';
    this.cancel.disabled = !(can && running && !this.cancelRequested);
    this.resume.disabled = !(can && ENDED_RESUMABLE.has(run?.status ?? ''));
    const kept = running && run?.endpointExpiresAt !== undefined;
    this.extend.disabled = !(can && kept);
    this.endNow.disabled = !(can && kept);
    this.keepAlive.title = run?.endpointExpiresAt
      ? `the endpoint is deleted at ${formatTime(run.endpointExpiresAt)}`
      : 'the endpoint is not being kept alive';
  }

  private act(action: () => Promise<string>): void {
    if (this.busy) return;
    this.busy = true;
    this.problem.hidden = true;
    this.refresh();
    action()
      .then((message) => setText(this.notice, message))
      .catch((err: unknown) => {
        this.problem.hidden = false;
        setText(
          this.problem,
          err instanceof ApiError ? `refused (${err.status}): ${err.message}` : `failed: ${String(err)}`,
        );
      })
      .finally(() => {
        this.busy = false;
        this.refresh();
        this.changed();
      });
  }
}
