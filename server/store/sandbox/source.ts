/**
 * What counts as a design function's source. CouchDB stores functions as strings such as
 * `function (doc) { ... }`; a bare anonymous function is not a valid statement, so the source
 * is evaluated as an expression: `(` + source + `\n)`. The newline lets a trailing `//` comment
 * end before the closing parenthesis.
 */

/** How many trailing semicolons to try removing before giving up (`};`, `}; // end`, `};;`). */
const MAX_SEMICOLON_RETRIES = 3;

export function asExpression(source: string): string {
  return `(${source}\n)`;
}

/**
 * Variants of the source to try when the original is a syntax error: the same text without one
 * of its last few semicolons. A semicolon after the body is the common way a valid function
 * fails to parse as an expression; a variant is kept only if it parses and yields a function.
 */
export function withoutTrailingSemicolons(source: string): string[] {
  const variants: string[] = [];
  let at = source.length;
  while (variants.length < MAX_SEMICOLON_RETRIES) {
    at = source.lastIndexOf(';', at - 1);
    if (at < 0) break;
    variants.push(source.slice(0, at) + ' ' + source.slice(at + 1));
  }
  return variants;
}

/** A readable compile message from QuickJS's dumped SyntaxError: `SyntaxError: expecting ')' (line 3, column 7)`. */
export function syntaxErrorDetail(dumped: unknown, label: string): string {
  if (typeof dumped !== 'object' || dumped === null) return `compilation failed: ${String(dumped)}`;
  const { name, message, stack } = dumped as { name?: unknown; message?: unknown; stack?: unknown };
  let detail = `${typeof name === 'string' ? name : 'Error'}: ${String(message)}`;
  const where = typeof stack === 'string' ? positionIn(stack, label) : undefined;
  if (where) {
    // Line 1 carries the `(` we put in front of the source.
    const column = where.line === 1 ? where.column - 1 : where.column;
    detail += ` (line ${where.line}, column ${column})`;
  }
  return detail;
}

function positionIn(stack: string, label: string): { line: number; column: number } | undefined {
  const first = stack.split('\n').find((line) => line.includes(label));
  const match = first && /:(\d+):(\d+)\)?\s*$/.exec(first);
  if (!match) return undefined;
  return { line: Number(match[1]), column: Number(match[2]) };
}
