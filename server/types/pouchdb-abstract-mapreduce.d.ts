declare module 'pouchdb-abstract-mapreduce' {
  type Mapper = (
    source: string,
    emit: (key: unknown, value: unknown) => void,
  ) => (doc: unknown) => void;
  type Reducer = (
    source: string,
  ) => (keys: unknown, values: unknown[], rereduce: boolean) => unknown;
  type Validator = (ddoc: Record<string, unknown>, viewName: string) => void;
  export default function createAbstractMapReduce(
    localDocName: string,
    mapper: Mapper,
    reducer: Reducer,
    ddocValidator: Validator,
  ): {
    query: (this: unknown, fun: string, opts: Record<string, unknown>) => Promise<unknown>;
    viewCleanup: (this: unknown) => Promise<unknown>;
  };
}
