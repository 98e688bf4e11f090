import * as acorn from 'acorn';
import { DesignDocSourceInvalid } from '../errors.js';

/**
 * Checks that design-doc code stands alone: CouchDB (SpiderMonkey or QuickJS) and the
 * embedded store's sandbox give it nothing but the standard built-ins, so a leftover
 * `require(…)` or a helper defined elsewhere would only fail there, at write time.
 */

// Built-ins every engine we target has; anything else must be declared in the code itself.
const BUILT_INS = new Set([
  'Array', 'Boolean', 'Date', 'Error', 'Infinity', 'JSON', 'Math', 'NaN', 'Number', 'Object',
  'RangeError', 'RegExp', 'String', 'TypeError', 'isFinite', 'isNaN', 'parseFloat', 'parseInt',
  'undefined', 'encodeURIComponent', 'decodeURIComponent',
]); // prettier-ignore

type Node = acorn.Node & Record<string, unknown>;

/** Parses `source` as exactly one function expression in ES2017, or throws saying why not. */
export function parseFunctionExpression(source: string): acorn.FunctionExpression {
  const program = acorn.parse(`(${source}\n)`, { ecmaVersion: 2017, sourceType: 'script' });
  const [only, ...rest] = program.body;
  if (
    !only ||
    rest.length ||
    only.type !== 'ExpressionStatement' ||
    only.expression.type !== 'FunctionExpression'
  ) {
    throw new DesignDocSourceInvalid('must be a single function expression');
  }
  return only.expression;
}

/**
 * Names the code (a function's source, or the function already parsed) uses without declaring
 * them anywhere and that are not built-ins, e.g. ['require']. Declarations are collected
 * across all scopes: an approximation that errs towards silence, enough to catch code that
 * leans on a module system or a host global.
 */
export function outsideReferences(
  code: string | acorn.FunctionExpression,
  allowed: readonly string[] = [],
): string[] {
  const declared = new Set<string>(allowed);
  const used = new Set<string>();
  const fn = typeof code === 'string' ? parseFunctionExpression(code) : code;
  walk(fn as unknown as Node, null, declared, used);
  return [...used].filter((name) => !declared.has(name) && !BUILT_INS.has(name)).sort();
}

function walk(node: Node, parent: Node | null, declared: Set<string>, used: Set<string>): void {
  switch (node.type) {
    case 'Identifier':
      if (!isNameOnly(node, parent)) used.add(node.name as string);
      return;
    case 'VariableDeclarator':
      declarePattern(node.id as Node, declared);
      break;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      if (node.id) declared.add((node.id as acorn.Identifier).name);
      for (const param of node.params as Node[]) declarePattern(param, declared);
      break;
    case 'CatchClause':
      if (node.param) declarePattern(node.param as Node, declared);
      break;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child === 'object' && typeof (child as Node).type === 'string') {
        walk(child as Node, node, declared, used);
      }
    }
  }
}

// `a.b`'s b, `{ b: 1 }`'s b and labels are names, not references to a variable.
function isNameOnly(node: Node, parent: Node | null): boolean {
  if (!parent) return false;
  if (parent.type === 'MemberExpression') return parent.property === node && !parent.computed;
  if (parent.type === 'Property' || parent.type === 'MethodDefinition') {
    return parent.key === node && !parent.computed && !parent.shorthand;
  }
  return /^(LabeledStatement|BreakStatement|ContinueStatement)$/.test(parent.type);
}

function declarePattern(pattern: Node, declared: Set<string>): void {
  if (pattern.type === 'Identifier') declared.add(pattern.name as string);
  else if (pattern.type === 'AssignmentPattern') declarePattern(pattern.left as Node, declared);
  else if (pattern.type === 'RestElement') declarePattern(pattern.argument as Node, declared);
  else if (pattern.type === 'ArrayPattern') {
    for (const el of pattern.elements as (Node | null)[]) if (el) declarePattern(el, declared);
  } else if (pattern.type === 'ObjectPattern') {
    for (const p of pattern.properties as Node[]) {
      declarePattern((p.type === 'RestElement' ? p : p.value) as Node, declared);
    }
  }
}
