import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { TObject } from '@sinclair/typebox';
import { errors } from '../error-handler.js';
import type { ReportName } from '../jobs/aggregate/rollups.js';
import { sendCached } from './etag.js';
import { readReport } from './query.js';
import {
  FarmersQuery,
  FarmersReport,
  PaymentsQuery,
  PaymentsReport,
  VisitsQuery,
  VisitsReport,
} from './schemas.js';
import { viewerScope, type MembersOf } from './scope.js';

/** One handler serves the three reports, so its query is any of their three schemas. */
type AnyReportQuery = typeof VisitsQuery | typeof FarmersQuery | typeof PaymentsQuery;

const ROUTES: Array<{
  report: ReportName;
  summary: string;
  query: AnyReportQuery;
  body: TObject;
}> = [
  {
    report: 'visits',
    summary: "Visits per day, per farmer's district, per activity",
    query: VisitsQuery,
    body: VisitsReport,
  },
  {
    report: 'farmers',
    summary: 'Farmers registered, per district',
    query: FarmersQuery,
    body: FarmersReport,
  },
  {
    report: 'payments',
    summary: 'Payment requests by provider and status, with amounts',
    query: PaymentsQuery,
    body: PaymentsReport,
  },
];

export interface ReportRoutesOptions {
  membersOf: MembersOf;
}

/** `GET /reports/{visits,farmers,payments}`: the aggregates, for supervisors and admins. */
export default async function reportRoutes(
  app: FastifyInstance,
  opts: ReportRoutesOptions,
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const agg = app.couch.nano.use(app.config.AGGREGATES_DB);
  app.addHook('onRequest', app.requireUser);

  for (const { report, summary, query, body } of ROUTES) {
    api.get(
      `/reports/${report}`,
      {
        schema: {
          summary,
          description:
            'Counts from the aggregator (updated each run, not live). Admins see all data; a ' +
            "supervisor sees their teams': the team databases and their members' own databases. " +
            'Answers carry an ETag: send it back in If-None-Match to get 304 while nothing changed.',
          tags: ['reports'],
          security: [{ bearer: [] }],
          querystring: query,
          response: {
            200: body,
            304: { type: 'null', description: 'Not modified: the If-None-Match tag is current' },
            ...errors(400, 401, 403, 503),
          },
        },
      },
      async (req, reply) => {
        const scope = await viewerScope(req.sawaUser, opts.membersOf, req.query.team);
        const result = await readReport(agg, report, req.query, scope);
        return sendCached(req, reply, result, app.config.REPORTS_MAX_AGE_SEC);
      },
    );
  }
}
