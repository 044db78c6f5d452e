// A faster reader for the chat schema's row groups (prompt, prompt_id: text; messages: a list of
// {content, role} structs): its four leaf columns are decoded page by page with hyparquet's own page
// decoders, and each row is built straight from them, the same object hyparquet's parquetReadObjects
// builds (text left as UTF-8 bytes), without its intermediate nested arrays, flattening and struct
// inversion. Any other schema is read by parquetReadObjects (parquet.ts).
import type { Compressors, FileMetaData, SchemaTree } from 'hyparquet';
import { parquetSchema } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';

/** A text leaf column: its path from the schema's root (the root first), and its name in the file. */
interface TextLeaf {
  schemaPath: SchemaTree[];
  /** The definition level of a present value. */
  maxDef: number;
}

/** The chat schema of a file: where its columns are; undefined when the file has another schema. */
export interface ChatLayout {
  prompt?: TextLeaf;
  promptId?: TextLeaf;
  content: TextLeaf;
  role: TextLeaf;
  /** Definition level from which `messages` is present (below: null) and has elements (from listDef). */
  messagesDef: number;
  listDef: number;
  /** Definition level from which a list element (the struct) is present. */
  elementDef: number;
}

const isOptional = (node: SchemaTree): boolean => node.element.repetition_type === 'OPTIONAL';
const isRepeated = (node: SchemaTree): boolean => node.element.repetition_type === 'REPEATED';

/** A UTF-8 text leaf hyparquet would give as bytes with a stringFromBytes parser. */
function isTextLeaf(node: SchemaTree | undefined): node is SchemaTree {
  if (!node || node.children.length > 0 || isRepeated(node)) return false;
  const { type, converted_type, logical_type } = node.element;
  return type === 'BYTE_ARRAY' && (converted_type === 'UTF8' || logical_type?.type === 'STRING');
}

function textLeaf(schemaPath: SchemaTree[]): TextLeaf {
  return { schemaPath, maxDef: getMaxDefinitionLevel(schemaPath) };
}

export function chatLayoutOf(metadata: FileMetaData): ChatLayout | undefined {
  const root = parquetSchema(metadata);
  const top = (name: string): SchemaTree | undefined => root.children.find((c) => c.element.name === name);
  const flat = (name: string): TextLeaf | undefined | false => {
    const node = top(name);
    if (!node) return undefined;
    return isTextLeaf(node) ? textLeaf([root, node]) : false;
  };
  const prompt = flat('prompt');
  const promptId = flat('prompt_id');
  const messages = top('messages');
  if (prompt === false || promptId === false || !messages || isRepeated(messages)) return undefined;
  // the three-level LIST: messages (LIST) / repeated group / element struct / content, role
  const listType = messages.element.converted_type === 'LIST' || messages.element.logical_type?.type === 'LIST';
  const list = messages.children.length === 1 ? messages.children[0] : undefined;
  const element = list && isRepeated(list) && list.children.length === 1 ? list.children[0] : undefined;
  if (!listType || !element || isRepeated(element) || element.children.length === 0) return undefined;
  const content = element.children.find((c) => c.element.name === 'content');
  const role = element.children.find((c) => c.element.name === 'role');
  if (!isTextLeaf(content) || !isTextLeaf(role)) return undefined;
  const messagesDef = isOptional(messages) ? 1 : 0;
  const listDef = messagesDef + 1;
  const elementDef = listDef + (isOptional(element) ? 1 : 0);
  const leaf = (node: SchemaTree): TextLeaf => textLeaf([root, messages, list as SchemaTree, element, node]);
  return {
    ...(prompt ? { prompt } : {}),
    ...(promptId ? { promptId } : {}),
    content: leaf(content),
    role: leaf(role),
    messagesDef,
    listDef,
    elementDef,
  };
}

/** One leaf column chunk decoded: per entry its definition and repetition level, and the present values. */
interface LeafData {
  defs: number[];
  reps: number[];
  values: Uint8Array[];
}

/** Decodes a column chunk (its bytes from the first page on) into levels and values. */
function decodeLeaf(bytes: Uint8Array, leaf: TextLeaf, meta: { codec: string }, compressors: Compressors): LeafData {
  const { schemaPath } = leaf;
  const element = schemaPath[schemaPath.length - 1].element;
  const decoder = { type: 'BYTE_ARRAY' as const, element, schemaPath, codec: meta.codec, compressors };
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const out: LeafData = { defs: [], reps: [], values: [] };
  let dictionary: Uint8Array[] | undefined;
  while (reader.offset < bytes.byteLength - 1) {
    const header = parquetHeader(reader);
    const compressed = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    let page;
    let encoding: string | undefined;
    let numValues: number;
    if (header.type === 'DICTIONARY_PAGE') {
      const data = decompressPage(compressed, Number(header.uncompressed_page_size), meta.codec as never, compressors);
      const dictReader = { view: new DataView(data.buffer, data.byteOffset, data.byteLength), offset: 0 };
      dictionary = readPlain(
        dictReader,
        'BYTE_ARRAY',
        header.dictionary_page_header?.num_values ?? 0,
        undefined,
      ) as Uint8Array[];
      continue;
    } else if (header.type === 'DATA_PAGE' && header.data_page_header) {
      const data = decompressPage(compressed, Number(header.uncompressed_page_size), meta.codec as never, compressors);
      page = readDataPage(data, header.data_page_header, decoder as never);
      encoding = header.data_page_header.encoding;
      numValues = header.data_page_header.num_values;
    } else if (header.type === 'DATA_PAGE_V2' && header.data_page_header_v2) {
      page = readDataPageV2(compressed, header, decoder as never);
      encoding = header.data_page_header_v2.encoding;
      numValues = header.data_page_header_v2.num_values;
    } else {
      continue; // an index page: nothing to read
    }
    const { definitionLevels, repetitionLevels, dataPage } = page;
    for (let i = 0; i < numValues; i++) {
      out.defs.push(definitionLevels?.length ? (definitionLevels[i] as number) : leaf.maxDef);
      out.reps.push(repetitionLevels.length ? (repetitionLevels[i] as number) : 0);
    }
    if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY') {
      if (!dictionary) throw new Error('parquet dictionary page missing');
      for (let i = 0; i < dataPage.length; i++) out.values.push(dictionary[dataPage[i] as number]);
    } else {
      for (let i = 0; i < dataPage.length; i++) out.values.push(dataPage[i] as Uint8Array);
    }
  }
  return out;
}

/** A leaf as a cursor: entry `e` of the levels, value `v` of the values. */
interface Cursor {
  data: LeafData;
  e: number;
  v: number;
}

/** The value of a flat leaf's next row: bytes, or null. */
function nextFlat(c: Cursor, maxDef: number): Uint8Array | null {
  if (c.e >= c.data.defs.length) throw new Error('parquet column chunk holds fewer rows than its row group');
  const present = c.data.defs[c.e++] === maxDef;
  return present ? c.data.values[c.v++] : null;
}

/**
 * The rows [rowStart, rowEnd) of a row group of a file with the chat layout, built from the group's
 * column chunks (`chunk(path)` gives a leaf's bytes), as parquetReadObjects builds them with text
 * as bytes: { prompt, prompt_id, messages: [{ content, role }] }; a null text is null, a null list or
 * list element undefined.
 */
export function readChatRows(
  layout: ChatLayout,
  chunk: (leaf: string[]) => { bytes: Uint8Array; codec: string },
  rowStart: number,
  rowEnd: number,
  compressors: Compressors,
): Record<string, unknown>[] {
  const decode = (leaf: TextLeaf): Cursor => {
    const path = leaf.schemaPath.slice(1).map((n) => n.element.name);
    const { bytes, codec } = chunk(path);
    return { data: decodeLeaf(bytes, leaf, { codec }, compressors), e: 0, v: 0 };
  };
  const prompt = layout.prompt ? decode(layout.prompt) : undefined;
  const promptId = layout.promptId ? decode(layout.promptId) : undefined;
  const content = decode(layout.content);
  const role = decode(layout.role);
  const { messagesDef, listDef, elementDef } = layout;
  const contentDef = layout.content.maxDef;
  const roleDef = layout.role.maxDef;
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < rowEnd; r++) {
    const p = prompt ? nextFlat(prompt, layout.prompt?.maxDef ?? 0) : undefined;
    const id = promptId ? nextFlat(promptId, layout.promptId?.maxDef ?? 0) : undefined;
    // The row's entries in the two list leaves (aligned: same repetition, same levels down to the
    // struct): the first one, then each one that repeats (rep > 0). A null or empty list is one entry.
    if (content.e >= content.data.defs.length || role.e >= role.data.defs.length) {
      throw new Error('parquet column chunk holds fewer rows than its row group');
    }
    const first = content.data.defs[content.e];
    const messages: unknown[] | undefined = first >= messagesDef ? [] : undefined;
    do {
      const def = content.data.defs[content.e++];
      const roleLevel = role.data.defs[role.e++];
      if (def < listDef) break;
      const text = def === contentDef ? content.data.values[content.v++] : null;
      const name = roleLevel === roleDef ? role.data.values[role.v++] : null;
      messages?.push(def < elementDef ? undefined : { content: text, role: name });
    } while (content.e < content.data.defs.length && content.data.reps[content.e] > 0);
    if (r >= rowStart) rows.push({ prompt: p, prompt_id: id, messages });
  }
  return rows;
}
