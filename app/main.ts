import { go, h, mount, route } from './dom.js';
import { currentLang, setLang, t, type Lang } from './i18n.js';
import { client, log, resume, signIn, type Session } from './session.js';
import { farmersScreen } from './views/farmers.js';
import { farmerScreen } from './views/farmer.js';
import { farmerEditScreen, paymentScreen, visitScreen } from './views/edit.js';
import { signInProblem, signInScreen } from './views/sign-in.js';
import { statusBar } from './views/status.js';
import { syncScreen } from './views/sync.js';

/**
 * The field app: a header, the sync status line, and one screen chosen by the URL's hash.
 * Screens re-render when the local database changes or the sync state moves, except a form
 * being filled in, which is left alone until it is saved or cancelled.
 */

const root = document.getElementById('app') as HTMLElement;
let session: Session | null = null;
let signInMode: 'login' | 'signup' = 'login';
let query = '';
let status = statusBar(() => void session?.syncNow());
const screen = h('main', { id: 'screen', tabindex: '-1' });

function shell(): void {
  document.documentElement.lang = currentLang();
  status = statusBar(() => void session?.syncNow());
  document.title = t('app_name');
  const lang = h(
    'select',
    {
      id: 'lang',
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value as Lang);
        shell();
      },
    },
    h('option', { value: 'sw', selected: currentLang() === 'sw' }, 'Kiswahili'),
    h('option', { value: 'en', selected: currentLang() === 'en' }, 'English'),
  );
  const header = h(
    'header',
    { class: 'top' },
    h('h1', {}, h('a', { href: '#/farmers' }, t('app_name'))),
    h('label', { for: 'lang', class: 'lang-label' }, t('language')),
    lang,
  );
  const [here] = route();
  const nav = session
    ? h(
        'nav',
        { 'aria-label': t('app_name') },
        h(
          'a',
          { href: '#/farmers', 'aria-current': here === 'sync' ? undefined : 'page' },
          t('farmers'),
        ),
        h('a', { href: '#/sync', 'aria-current': here === 'sync' ? 'page' : undefined }, t('sync')),
        h(
          'button',
          { type: 'button', id: 'sign-out', onclick: () => void signOut() },
          t('sign_out'),
        ),
      )
    : null;
  mount(root, header, session ? [status.el, nav] : null, screen);
  status.update(log.view());
  render(true);
}

/** Re-draws the current screen; `force` also redraws a form being filled in. */
function render(force = false): void {
  const [name = 'farmers', id, action] = route();
  const editing = (name === 'farmers' && id === 'new') || (name === 'farmer' && action);
  if (!force && editing && screen.childElementCount) return;
  if (!session) return mount(screen, signInScreen(signInMode, submit, toggle));
  const focused = document.activeElement?.id;
  if (name === 'sync') mount(screen, syncScreen(session));
  else if (name === 'farmers' && id === 'new') mount(screen, farmerEditScreen(session, null));
  else if (name === 'farmer' && id && action === 'edit')
    mount(screen, farmerEditScreen(session, id));
  else if (name === 'farmer' && id && action === 'visit') mount(screen, visitScreen(session, id));
  else if (name === 'farmer' && id && action === 'pay') mount(screen, paymentScreen(session, id));
  else if (name === 'farmer' && id) mount(screen, farmerScreen(session, id));
  else mount(screen, farmersScreen(session, query, onQuery));
  // Keep the keyboard where it was across a redraw (the search box while typing).
  if (focused) document.getElementById(focused)?.focus();
}

function onQuery(q: string): void {
  query = q;
  render();
  const input = document.getElementById('search') as HTMLInputElement | null;
  input?.setSelectionRange(q.length, q.length);
}

async function submit(
  mode: 'login' | 'signup',
  name: string,
  password: string,
): Promise<string | null> {
  try {
    session = await signIn(mode, name, password);
  } catch (err) {
    return signInProblem(err);
  }
  attach(session);
  if (!location.hash || location.hash === '#/') go('farmers');
  shell();
  return null;
}

function toggle(): void {
  signInMode = signInMode === 'login' ? 'signup' : 'login';
  render(true);
}

function attach(s: Session): void {
  s.docs.subscribe(() => render());
  // Only the status line follows the sync state; a screen redraws when its data changes.
  s.log.subscribe(() => {
    status.update(s.log.view());
    const [name] = route();
    if (name === 'sync') render();
  });
}

async function signOut(): Promise<void> {
  const s = session;
  const button = document.getElementById('sign-out') as HTMLButtonElement | null;
  if (button) {
    button.disabled = true;
    button.textContent = t('working');
  }
  // The stored session is gone only once the client has finished: a reload before that
  // would sign the agent straight back in.
  await s?.signOut();
  session = null;
  go('');
  shell();
}

async function boot(): Promise<void> {
  window.addEventListener('hashchange', () => {
    // The header's "you are here" follows the screen.
    const [here] = route();
    for (const a of root.querySelectorAll('nav a')) {
      const current = (a.getAttribute('href') === '#/sync') === (here === 'sync');
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    render(true);
    screen.focus();
  });
  setInterval(() => status.update(log.view()), 30_000);
  for (const event of ['online', 'offline']) {
    window.addEventListener(event, () => status.update(log.view()));
  }
  session = await resume();
  if (session) attach(session);
  shell();
  // For tests and for a curious developer: the client and the local database.
  (window as unknown as { sawa: unknown }).sawa = {
    client,
    get session() {
      return session;
    },
  };
}

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {
    // No service worker (plain http on a LAN address): the app still works online.
  });
}
void boot();
