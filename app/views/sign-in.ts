import { h } from '../dom.js';
import { t, type TextKey } from '../i18n.js';

// The server's codes (docs/accounts.md) that an agent can act on, in the agent's language.
const PROBLEMS: Record<string, TextKey> = {
  offline: 'offline_sign_in',
  SAWA_BAD_CREDENTIALS: 'bad_credentials',
  SAWA_USERNAME_TAKEN: 'username_taken',
  SAWA_INVALID_USERNAME: 'invalid_username',
  SAWA_WEAK_PASSWORD: 'weak_password',
  SAWA_ACCOUNT_DISABLED: 'account_disabled',
  SAWA_RATE_LIMITED: 'rate_limited',
};

/** Why signing in or up failed, for the agent; the server's own words when not known here. */
export function signInProblem(err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  const key = (code && PROBLEMS[code]) || (!navigator.onLine ? 'offline_sign_in' : null);
  const min = /(\d+) characters/.exec(message ?? '')?.[1] ?? '8';
  return key ? t(key, { n: min }) : (message ?? String(err));
}

/** Sign in, or sign up (the same form; a link switches between them). */
export function signInScreen(
  mode: 'login' | 'signup',
  submit: (mode: 'login' | 'signup', name: string, password: string) => Promise<string | null>,
  switchMode: () => void,
): HTMLElement {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const name = h('input', {
    id: 'username',
    name: 'username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: mode === 'signup' ? 'new-password' : 'current-password',
    required: true,
  });
  const button = h(
    'button',
    { type: 'submit', class: 'primary' },
    t(mode === 'signup' ? 'sign_up' : 'sign_in'),
  );
  const form = h(
    'form',
    {
      class: 'card form',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        button.disabled = true;
        button.textContent = t('working');
        const problem = await submit(mode, name.value.trim(), password.value);
        button.disabled = false;
        button.textContent = t(mode === 'signup' ? 'sign_up' : 'sign_in');
        error.hidden = !problem;
        error.textContent = problem ?? '';
      },
    },
    h('h2', {}, t(mode === 'signup' ? 'sign_up' : 'sign_in')),
    error,
    h('div', { class: 'field' }, h('label', { for: 'username' }, t('username')), name),
    h('div', { class: 'field' }, h('label', { for: 'password' }, t('password')), password),
    h('div', { class: 'actions' }, button),
    h(
      'p',
      {},
      h('a', { href: '#', onclick: (e: Event) => (e.preventDefault(), switchMode()) },
        t(mode === 'signup' ? 'have_account' : 'new_here')),
    ),
  ); // prettier-ignore
  return form;
}
