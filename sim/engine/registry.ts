/**
 * Named policies of one kind (schedulers, routers…): the built-ins, then any registered at run
 * time, in that order (error messages list them so). A name is taken once, so a built-in cannot
 * be replaced by accident.
 */
export class Registry<F extends { readonly name: string }> {
  /** By name; read-only to everyone but `register`. */
  readonly table: Readonly<Record<string, F>>;

  constructor(
    /** What the entries are, for messages ("scheduler", "router"). */
    private readonly kind: string,
    builtIn: readonly F[],
  ) {
    this.table = Object.fromEntries(builtIn.map((f) => [f.name, f]));
    if (Object.keys(this.table).length !== builtIn.length) throw new Error(`two built-in ${kind}s share a name`);
  }

  names(): string[] {
    return Object.keys(this.table);
  }

  /** Adds a policy written elsewhere (an experiment, a test's toy); returns a function that removes it again. */
  register(factory: F): () => void {
    const { name } = factory;
    if (Object.hasOwn(this.table, name)) throw new Error(`a ${this.kind} named '${name}' is already registered`);
    const table = this.table as Record<string, F>;
    table[name] = factory;
    return () => {
      if (table[name] === factory) delete table[name];
    };
  }
}
