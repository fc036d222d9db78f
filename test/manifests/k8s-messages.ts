/**
 * The Kubernetes wording that validation errors must reproduce, written out
 * literally (k8s.io/apimachinery/pkg/util/validation, as released; RegexError
 * puts two spaces before each " or"). Kept apart from the server's constants
 * on purpose: a change of wording there must break a test here.
 */
import type { FieldError } from "../../server/policy/field.js";

export const DNS_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
export const QUALIFIED_NAME =
  "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
export const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
export const PORT_RANGE = "must be between 1 and 65535, inclusive";
export const CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
export const IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
export const PORT_NAME_CHARS = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
export const PORT_NAME_LETTER = "must contain at least one letter (a-z)";
export const PORT_NAME_HYPHENS = "must not contain consecutive hyphens";
export const PORT_NAME_EDGE = "must not begin or end with a hyphen";
export const maxLen = (n: number): string => `must be no more than ${n} characters`;

/** Expected field errors, built as field.Required / Invalid / ... build them. */
export const err = {
  required: (field: string, detail = ""): FieldError => ({ field, type: "FieldValueRequired", detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({ field, type: "FieldValueInvalid", value, detail }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    field,
    type: "FieldValueNotSupported",
    value,
    detail: `supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ field, type: "FieldValueForbidden", detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ field, type: "FieldValueDuplicate", value, detail: "" }),
};
