// TypeDoc plugin: a package with several entry points (its package.json `exports`) gets one module per
// entry point, named after the file (`index`, `postgres-store`). Name them after the import path
// instead, so the reference says what users write: `@satellite/muc` and `@satellite/muc/postgres`.
// A package lists its entry points in its own typedoc.json (packages/muc/typedoc.json).
import { Converter, ReflectionKind } from 'typedoc'

/** Module name TypeDoc gives (the file's name) -> the export path after the package's name. */
const SUBPATHS = { '@satellite/muc': { index: '', 'postgres-store': '/postgres' } }

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project
    const names = SUBPATHS[project.packageName ?? project.name]
    if (names === undefined) return
    for (const m of project.getReflectionsByKind(ReflectionKind.Module)) {
      const sub = names[m.name]
      if (sub !== undefined) m.name = `${project.packageName ?? project.name}${sub}`
    }
  })
}
