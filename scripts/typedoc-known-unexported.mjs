// TypeDoc plugin: a per-package `intentionallyNotExported` list. With
// entryPointStrategy "packages", TypeDoc validates each package separately, and one shared
// list would warn in every package that does not reference a name. Each name here is a
// type a public signature uses but its package does not export: a gap to close in that
// package (export the type), after which its entry must go (TypeDoc warns about unused ones).
const KNOWN = {}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const validate = app.validate.bind(app)
  app.validate = (project) => {
    app.options.setValue('intentionallyNotExported', KNOWN[project.packageName] ?? [])
    validate(project)
  }
}
