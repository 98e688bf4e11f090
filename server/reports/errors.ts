import createError from '@fastify/error';

/** The errors of the report routes (besides authentication's, from server/errors.ts). */

export const ReportsForbidden = createError(
  'SAWA_REPORTS_FORBIDDEN',
  'reports need the supervisor or admin role',
  403,
);
export const ReportTeamForbidden = createError<'SAWA_REPORT_TEAM_FORBIDDEN', 403, [string]>(
  'SAWA_REPORT_TEAM_FORBIDDEN',
  'team %s is not one of your teams',
  403,
);
export const BadReportQuery = createError<'SAWA_BAD_REPORT_QUERY', 400, [string]>(
  'SAWA_BAD_REPORT_QUERY',
  '%s',
  400,
);
