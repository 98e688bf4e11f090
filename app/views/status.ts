import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { SyncView } from '../sync-log.js';

/** The one line that says where the agent's data stands; `role="status"` announces changes. */
export function statusText(view: SyncView, now = Date.now()): string {
  const waiting = view.waiting > 0 ? t('status_waiting', { n: view.waiting }) : '';
  switch (shownState(view)) {
    case 'syncing':
      return t('status_syncing');
    case 'offline':
      return [t('status_offline'), waiting].filter(Boolean).join(' · ');
    case 'error':
      return [t('status_error'), waiting].filter(Boolean).join(' · ');
    case 'signed-out':
      return t('status_signed_out');
    default:
      if (waiting) return waiting;
      return view.lastSynced
        ? t('status_synced', { when: ago(view.lastSynced, now) })
        : t('status_never');
  }
}

/**
 * The browser knows at once when the phone has no network at all; the client finds out only
 * when a request fails (after its retries). Say "offline" as soon as either knows.
 */
function shownState(view: SyncView): SyncView['state'] {
  return view.state !== 'signed-out' && !navigator.onLine ? 'offline' : view.state;
}

function ago(at: number, now: number): string {
  const minutes = Math.floor((now - at) / 60_000);
  if (minutes < 1) return t('just_now');
  if (minutes < 60) return t('minutes_ago', { n: minutes });
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function statusBar(onSync: () => void): { el: HTMLElement; update(view: SyncView): void } {
  const line = h('p', { id: 'sync-status', role: 'status', class: 'status' });
  const button = h('button', { type: 'button', id: 'sync-now', onclick: onSync }, t('sync_now'));
  const el = h('div', { class: 'status-bar' }, line, button);
  return {
    el,
    update(view) {
      line.textContent = statusText(view);
      line.dataset.state = shownState(view);
      button.disabled = view.state === 'syncing';
    },
  };
}
