import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factories = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/**
 * Fastify's schema compilers, shared by every Fastify instance of the process: a route schema
 * is compiled to its validator (Ajv) or serializer (fast-json-stringify) once, then reused by
 * any later instance with the same schema, shared schemas and compiler options. Fastify's
 * defaults start afresh for each instance, and compiling the routes' schemas was most of the
 * cost of building an app: a service has one, but a test process builds dozens (the store's,
 * the service's, each with its own settings). A schema is known by its JSON, so schemas
 * written inline in a route's registration (a new object each time) are shared too.
 */
const validators = AjvCompiler();
const serializers = SerializerSelector();
const compiled = new Map<string, unknown>();

function once<T>(key: string, compile: () => T): T {
  if (!compiled.has(key)) compiled.set(key, compile());
  return compiled.get(key) as T;
}

export const sharedCompilers: Factories = {
  buildValidator(externalSchemas, options) {
    const compile = validators(externalSchemas, options);
    const base = `validator ${JSON.stringify([externalSchemas, options])}`;
    return (route) => once(`${base} ${JSON.stringify(route.schema)}`, () => compile(route));
  },
  buildSerializer(externalSchemas, options) {
    const compile = serializers(externalSchemas, options);
    const base = `serializer ${JSON.stringify([externalSchemas, options])}`;
    return (route) => once(`${base} ${JSON.stringify(route.schema)}`, () => compile(route));
  },
};
