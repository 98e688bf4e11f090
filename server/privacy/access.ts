import type { SawaUser } from '../user.js';
import type { UserView } from '../accounts/views.js';
import { StaffRequired } from '../errors.js';

export type SubjectAction = 'export' | 'erase' | 'restrict';

/**
 * Who may act on a person's data through /admin/subjects/…: an admin, anyone; a supervisor
 * may export (never erase or restrict) the data of a member of one of their teams. Everyone
 * else, and a supervisor for anyone outside their teams, is refused with 403.
 */
export function checkSubjectRight(
  staff: SawaUser,
  subject: Pick<UserView, 'name' | 'teams'> | null,
  action: SubjectAction,
): void {
  if (staff.disabled) throw new StaffRequired();
  if (staff.roles.includes('admin')) return;
  if (action === 'export' && staff.roles.includes('supervisor') && subject) {
    const mine = new Set(staff.teams.map((m) => m.team));
    if (subject.teams.some((m) => mine.has(m.team))) return;
  }
  throw new StaffRequired();
}
