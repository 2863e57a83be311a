import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

import { kDocumentId, loadDocument } from './openapi';

/**
 * The one place that builds ajv. The OpenAPI document is registered whole, so component schemas
 * reference each other exactly as they do in the document; each is compiled once, on first use.
 */
function createAjv(): Ajv2020 {
  // verbose: errors carry their parent schema, which `schemaPointers` maps back to its place in the document.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: true, strictRequired: true, verbose: true });
  addFormats(ajv);

  // The OpenAPI document's own fields sit next to the schemas; ajv is told they are not schema keywords.
  for (const keyword of ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags']) {
    ajv.addKeyword({ keyword, schemaType: ['object', 'array', 'string'] });
  }
  // OpenAPI 3.1's dialect adds these annotations to JSON Schema 2020-12.
  for (const keyword of ['discriminator', 'xml', 'externalDocs', 'example']) ajv.addKeyword({ keyword });

  ajv.addSchema(loadDocument() as object, kDocumentId);
  return ajv;
}

/** Each schema object of the document → its JSON Pointer, so errors inside a `$ref` name the right schema. */
const schemaPointers = new WeakMap<object, string>();
function indexSchemas(node: unknown, pointer: string): void {
  if (!node || typeof node !== 'object') return;
  if (!Array.isArray(node)) schemaPointers.set(node, pointer);
  for (const [key, child] of Object.entries(node)) indexSchemas(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/** The compiled validator for a component schema, e.g. `validatorFor('QuoteResponse')`. */
export function validatorFor(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    if (!ajv) {
      ajv = createAjv();
      indexSchemas(loadDocument(), '#');
    }
    validate = ajv.getSchema(`${kDocumentId}#/components/schemas/${name}`);
    if (!validate) throw new Error(`schema ${name} is not in the OpenAPI document's components`);
    validators.set(name, validate);
  }
  return validate;
}

export interface SchemaProblem {
  /** Where in the body, e.g. `results[0] › quotes[2] › amount`. */
  where: string;
  message: string;
  /** The failing keyword's location in the schema, e.g. `#/components/schemas/Quote/properties/amount/type`. */
  schemaPath: string;
}

function describeLocation(instancePath: string): string {
  if (!instancePath) return 'body';
  const parts = instancePath
    .slice(1)
    .split('/')
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = 'body';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : ` › ${part}`;
  return out;
}

function schemaPathOf(schema: string, error: ErrorObject): string {
  const parent = error.parentSchema && schemaPointers.get(error.parentSchema);
  if (parent) return `${parent}/${error.keyword}`;
  return `#/components/schemas/${schema}${error.schemaPath.replace(/^#/, '')}`;
}

function describeError(schema: string, error: ErrorObject): SchemaProblem {
  let message = error.message ?? error.keyword;
  if (error.keyword === 'const') message = `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  if (error.keyword === 'enum') message = `must be one of ${JSON.stringify((error.params as { allowedValues: unknown }).allowedValues)}`;
  return {
    where: describeLocation(error.instancePath),
    message,
    schemaPath: schemaPathOf(schema, error),
  };
}

/** Validates `value` against a component schema and explains every violation. */
export function checkSchema(name: string, value: unknown): SchemaProblem[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(error => describeError(name, error));
}

/** One line per problem: `body › results[0] › amount must be number (#/components/schemas/Quote/properties/amount/type)`. */
export function formatSchemaProblems(problems: SchemaProblem[], limit = 20): string[] {
  const lines = problems.slice(0, limit).map(p => `${p.where} ${p.message} (${p.schemaPath})`);
  if (problems.length > limit) lines.push(`… and ${problems.length - limit} more`);
  return lines;
}
