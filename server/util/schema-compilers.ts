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
 * defaults start afresh for each instance (about 1.5 ms a schema, ~120 ms for the service and
 * its store): a service builds one, but a test process builds dozens, each with settings of
 * its own. A schema, the shared schemas and the options are known by their JSON, so schemas
 * written inline in a route's registration (a new object each time) are shared too; Ajv
 * plugins given as options would not be told apart (the service gives none).
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
