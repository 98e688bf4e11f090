import type Nano from 'nano';
import { getDoc } from '../../../couch/upsert.js';
import { teamDbName } from '../../../provisioning/names.js';
import { userDocId, type UserDoc } from '../../../accounts/records.js';
import type { PaymentClaim } from './status.js';

interface ApprovalDoc {
  type?: string;
  owner?: string;
  request_id?: string;
  agent?: string;
  amount?: number;
  decision?: string;
}

export type Approval = { decision: 'approved' | 'rejected'; by: string } | null;

/**
 * A supervisor's decision on a large payment: `payment_approval-<request id>` in one of the
 * agent's team databases. The sync rules let only supervisors and admins who may write to
 * that team database create it, with themselves as `owner`; here it must also name this
 * agent and this amount, and not be the agent's own.
 */
export async function findApproval(
  nano: Nano.ServerScope,
  accountsDb: string,
  claim: PaymentClaim,
): Promise<Approval> {
  const user = await getDoc<UserDoc>(nano.use(accountsDb), userDocId(claim.owner));
  for (const m of user?.teams ?? []) {
    let doc: ApprovalDoc | null;
    try {
      doc = await getDoc<ApprovalDoc>(
        nano.use(teamDbName(m.team)),
        `payment_approval-${claim.request_id}`,
      );
    } catch {
      continue; // a team database not there (yet): no approval in it
    }
    if (
      doc?.type === 'payment_approval' &&
      doc.request_id === claim.request_id &&
      doc.agent === claim.owner &&
      doc.amount === claim.order.amount &&
      doc.owner &&
      doc.owner !== claim.owner &&
      (doc.decision === 'approved' || doc.decision === 'rejected')
    ) {
      return { decision: doc.decision, by: doc.owner };
    }
  }
  return null;
}
