/**
 * @module config-store
 * Lossless, line-preserving reading and editing of Asterisk config files (main/config.c
 * syntax), with safe, serialised, backed-up writes.
 */
export { ConfigError, type ConfigErrorStatus, type ConfigProblem } from './errors.ts';
export {
  parseConfig,
  ConfigDocument,
  type Section,
  type SectionEntry,
  type IncludeRef,
  type ParseOptions,
} from './document.ts';
export type { ConfigLine, LineKind, EntryOp, Eol, SectionHeader, EntryInfo, DirectiveInfo } from './line-parser.ts';
export type { EntryInput, SectionSelector, AddSectionOptions } from './section-edits.ts';
export {
  validateName,
  validateTemplateName,
  validateKey,
  validateValue,
  escapeValue,
  restNameProblem,
  MAX_SECTION_NAME_BYTES,
} from './validate.ts';
export { validateText } from './validate-text.ts';
export { decodeConfigBytes, encodeConfigText, type TextEncodingName, type DecodedText } from './encoding.ts';
export {
  loadConfigTree,
  findTreeSection,
  type ConfigTree,
  type TreeFile,
  type TreeSection,
  type TreeContinuation,
  type TreeOptions,
} from './config-tree.ts';
export {
  ConfigFileStore,
  etagOf,
  type ConfigFileStoreOptions,
  type ConfigEdit,
  type ReadResult,
  type WriteResult,
  type WriteOptions,
  type WriteOutcome,
} from './file-store.ts';
export { parseBackupName } from './backups.ts';
export { assertPlainFileName } from './path-guard.ts';
export { unifiedDiff } from './unified-diff.ts';
