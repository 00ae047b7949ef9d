// Fastify encapsulates what a plugin registers. The security, session and auth plugins must reach every route
// module registered beside them (their hooks guard those routes, their decorators serve them), so they carry
// Fastify's documented `skip-override` marker, which is what the fastify-plugin package sets.

/** Marks `plugin` to run in the scope it is registered in; `name` is what Fastify's errors and logs call it. */
export function appWide<P extends (...args: never[]) => unknown>(name: string, plugin: P): P {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
}
