import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { REPORTS, type ReportName } from '../jobs/aggregate/rollups.js';
import { PAYMENT_PROVIDERS } from '../../sync-rules/payment-request.js';

/**
 * Schemas of the report routes: validation, types and OpenAPI from one place. Query strings
 * refuse unknown parameters, so a typo is a 400 rather than a silently ignored filter.
 */

const Day = (description: string) =>
  Type.String({
    pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    description: `${description}: YYYY-MM-DD, the day as the phone recorded it (local time)`,
    examples: ['2024-05-01'],
  });

const Filter = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });

/** Dimensions a report can be grouped by, besides its own: the day and the source database. */
export const COMMON_GROUPS = ['day', 'scope'] as const;

export const DEFAULT_GROUPS: Record<ReportName, string[]> = {
  visits: ['day', 'district', 'activity'],
  farmers: ['district'],
  payments: ['provider', 'status'],
};

function query<P extends TProperties>(report: ReportName, filters: P) {
  const groups = [...COMMON_GROUPS, ...REPORTS[report]];
  return Type.Object(
    {
      from: Type.Optional(Day('first day included (default: the earliest)')),
      to: Type.Optional(Day('last day included (default: the latest)')),
      group_by: Type.Optional(
        Type.String({
          pattern: '^[a-z_]+(,[a-z_]+)*$',
          maxLength: 100,
          description:
            `comma-separated dimensions, one row per combination: any of ${groups.join(', ')}; ` +
            `default ${DEFAULT_GROUPS[report].join(',')}. scope is the source database ` +
            '(userdb-… for an agent, team-… for a team)',
        }),
      ),
      team: Type.Optional(
        Type.String({
          pattern: '^[a-z][a-z0-9-]{0,62}$',
          description:
            "only this team's data (one of the supervisor's teams; any team for an admin)",
        }),
      ),
      ...filters,
    },
    { additionalProperties: false },
  );
}

export const VisitsQuery = query('visits', {
  district: Type.Optional(Filter('only visits to farmers of this district')),
  activity: Type.Optional(
    Type.Union(
      ['training', 'input-distribution', 'follow-up', 'survey'].map((a) => Type.Literal(a)),
      { description: 'only this activity' },
    ),
  ),
});
export const FarmersQuery = query('farmers', {
  district: Type.Optional(Filter('only farmers of this district')),
});
export const PaymentsQuery = query('payments', {
  provider: Type.Optional(
    Type.Union(
      PAYMENT_PROVIDERS.map((p) => Type.Literal(p)),
      { description: 'only this provider' },
    ),
  ),
  status: Type.Optional(
    Type.Union(
      ['pending', 'succeeded', 'failed'].map((s) => Type.Literal(s)),
      { description: 'only this status (pending: no status document yet)' },
    ),
  ),
});
export type ReportQuery = Static<typeof VisitsQuery> &
  Static<typeof FarmersQuery> &
  Static<typeof PaymentsQuery>;

const Opt = (description: string) => Type.Optional(Type.String({ description }));

function body(report: ReportName, dims: TProperties, withAmount: boolean): TObject {
  const amount: TProperties = withAmount
    ? { amount: Type.Integer({ description: 'sum of the amounts, Tanzanian shillings' }) }
    : {};
  return Type.Object(
    {
      report: Type.Literal(report),
      from: Type.Union([Type.String(), Type.Null()], {
        description: 'first day included, or null',
      }),
      to: Type.Union([Type.String(), Type.Null()], { description: 'last day included, or null' }),
      group_by: Type.Array(Type.String(), { description: 'the dimensions of each row, in order' }),
      rows: Type.Array(
        Type.Object({
          day: Opt('YYYY-MM-DD'),
          scope: Opt('source database: userdb-… (an agent) or team-… (a team)'),
          ...dims,
          count: Type.Integer({ description: 'number of documents' }),
          ...amount,
        }),
        { description: 'one row per combination of the group_by values that has data, sorted' },
      ),
      total: Type.Object({ count: Type.Integer(), ...amount }),
    },
    { description: `${report} report` },
  );
}

export const VisitsReport = body(
  'visits',
  {
    district: Opt("the farmer's district; (unknown) while the farmer is not in the same database"),
    activity: Opt('training, input-distribution, follow-up or survey'),
  },
  false,
);
export const FarmersReport = body('farmers', { district: Opt('district of registration') }, false);
export const PaymentsReport = body(
  'payments',
  {
    provider: Opt('mobile-money provider'),
    status: Opt('pending (no answer yet), succeeded or failed'),
  },
  true,
);
