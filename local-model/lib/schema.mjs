// Maps an OpenAI `response_format.json_schema.schema` (JSON Schema) onto the subset node-llama-cpp 3.21 turns into
// a grammar (GbnfJsonSchema). Without this, keywords it does not know silently become `null`: `{}` and `anyOf`
// would force the literal `null`, `format: "email"` an empty string.
//
// Shape-changing keywords we cannot enforce (`not`, `if`/`then`/`else`, `patternProperties`, `allOf` with more than
// one part, `dependentSchemas`, non-local `$ref`) are a 400. Value checks we cannot enforce (`pattern`, `minimum`,
// `maximum`, `multipleOf`, `uniqueItems`, unknown `format`s) are dropped: the output has the right shape but those
// constraints are not guaranteed (documented in README.md).

import { ApiError } from './openai.mjs';

const PARAM = 'response_format.json_schema.schema';
const SCALARS = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const FORMATS = new Set(['date-time', 'time', 'date']);
const REJECTED = [
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'dependentSchemas',
  'dependentRequired',
  'contains',
];
const MAX_DEPTH = 32;

/** Any JSON value, spelled in the subset (an array without `items` and an open object take any values). */
const ANY = Object.freeze({
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'array' },
    { type: 'object', additionalProperties: true },
  ],
});

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const reject = (message) =>
  new ApiError(400, `Unsupported JSON schema: ${message}`, { param: PARAM, code: 'invalid_json_schema' });

function refTarget(ref) {
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (!m) throw reject(`'$ref' must point into '#/$defs/...' (got ${JSON.stringify(ref)}).`);
  return `#/$defs/${m[2]}`;
}

function withDescription(out, schema) {
  if (typeof schema.description === 'string') out.description = schema.description;
  return out;
}

function convertObject(schema, depth) {
  const out = { type: 'object' };
  if (schema.properties !== undefined) {
    if (!isObject(schema.properties)) throw reject("'properties' must be an object.");
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, convert(v, depth + 1)]));
  }
  const extra = schema.additionalProperties;
  if (extra === undefined) out.additionalProperties = out.properties === undefined;
  else if (typeof extra === 'boolean') out.additionalProperties = extra;
  else out.additionalProperties = convert(extra, depth + 1);
  if (Array.isArray(schema.required)) out.required = schema.required.filter((k) => typeof k === 'string');
  for (const key of ['minProperties', 'maxProperties']) {
    if (Number.isInteger(schema[key])) out[key] = schema[key];
  }
  return out;
}

function convertArray(schema, depth) {
  const out = { type: 'array' };
  if (schema.items !== undefined && schema.items !== true) out.items = convert(schema.items, depth + 1);
  if (Array.isArray(schema.prefixItems)) out.prefixItems = schema.prefixItems.map((s) => convert(s, depth + 1));
  for (const key of ['minItems', 'maxItems']) {
    if (Number.isInteger(schema[key])) out[key] = schema[key];
  }
  return out;
}

function convertTyped(type, schema, depth) {
  switch (type) {
    case 'object':
      return convertObject(schema, depth);
    case 'array':
      return convertArray(schema, depth);
    case 'string': {
      if (typeof schema.format === 'string' && FORMATS.has(schema.format)) return { type, format: schema.format };
      const out = { type };
      for (const key of ['minLength', 'maxLength']) {
        if (Number.isInteger(schema[key])) out[key] = schema[key];
      }
      return out;
    }
    default:
      if (!SCALARS.has(type)) throw reject(`unknown type ${JSON.stringify(type)}.`);
      return { type };
  }
}

function convert(schema, depth = 0) {
  if (depth > MAX_DEPTH) throw reject(`nested deeper than ${MAX_DEPTH} levels.`);
  if (schema === true) return ANY;
  if (schema === false) throw reject("the schema 'false' matches nothing.");
  if (!isObject(schema)) throw reject(`a schema must be an object or boolean, got ${JSON.stringify(schema)}.`);
  const bad = REJECTED.find((k) => k in schema);
  if (bad) throw reject(`the '${bad}' keyword cannot be enforced by the local model's grammar.`);
  if (Array.isArray(schema.allOf)) {
    if (schema.allOf.length !== 1) throw reject("'allOf' with more than one schema cannot be enforced.");
    return convert({ ...schema.allOf[0], ...without(schema, 'allOf') }, depth + 1);
  }
  const defs = schema.$defs ?? schema.definitions;
  const withDefs = (out) => {
    if (isObject(defs)) {
      out.$defs = Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, convert(v, depth + 1)]));
    }
    return withDescription(out, schema);
  };
  if (typeof schema.$ref === 'string') return withDefs({ $ref: refTarget(schema.$ref) });
  if ('const' in schema) return withDefs({ const: scalar(schema.const, 'const') });
  if (Array.isArray(schema.enum)) return withDefs({ enum: schema.enum.map((v) => scalar(v, 'enum')) });
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    if (alternatives.length === 0) throw reject("'anyOf'/'oneOf' must not be empty.");
    return withDefs({ oneOf: alternatives.map((s) => convert(s, depth + 1)) });
  }
  let type = schema.type;
  if (type === undefined) {
    if (schema.properties !== undefined) type = 'object';
    else if (schema.items !== undefined || schema.prefixItems !== undefined) type = 'array';
    else return withDefs({ ...ANY });
  }
  if (Array.isArray(type)) {
    if (type.length === 0) throw reject("'type' must not be an empty array.");
    if (type.every((t) => SCALARS.has(t))) return withDefs({ type: [...type] });
    return withDefs({ oneOf: type.map((t) => convertTyped(t, schema, depth)) });
  }
  if (typeof type !== 'string') throw reject("'type' must be a string or an array of strings.");
  return withDefs(convertTyped(type, schema, depth));
}

function without(obj, key) {
  const { [key]: _dropped, ...rest } = obj;
  return rest;
}

function scalar(v, keyword) {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v;
  throw reject(`'${keyword}' values must be strings, numbers, booleans or null.`);
}

/**
 * Converts a JSON Schema to node-llama-cpp's GbnfJsonSchema subset.
 * A missing schema means "any JSON value". Throws `ApiError` (400) for what cannot be enforced.
 */
export function toGbnfJsonSchema(schema) {
  if (schema === null || schema === undefined) return { ...ANY };
  return convert(schema);
}
