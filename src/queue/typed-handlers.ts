/**
 * Handlers typed by the item map: their types are the map's keys and their items the map's items, so a misspelt
 * type or a `handle` expecting another payload is a compile error. They become ordinary `Handler`s, connected like
 * any other.
 */
import { UsageError } from '../errors.ts';
import type { Handler, Item, ItemOf, TypeMap, TypedHandler } from '../types.ts';

/**
 * The item types a typed handler takes: one type of the map, or several (its items are then a union
 * discriminated by `item.type`).
 */
export type HandlerTypes<K extends string> = K | readonly K[];

/** Makes a connectable `Handler` of a typed one; `'*'` takes every type. Refuses what a JavaScript caller may pass. */
export function toHandler(types: HandlerTypes<string> | '*', handler: TypedHandler<any>): Handler {
  if (!handler || typeof handler !== 'object') {
    throw new UsageError(`the handler for ${JSON.stringify(types)} is ${handler === null ? 'null' : typeof handler}; pass { name, handle(item, ctx) }`);
  }
  if ('types' in handler) {
    throw new UsageError(`handler "${String(handler.name)}" has its own types; the first argument names its types (${JSON.stringify(types)}), so leave types out`);
  }
  // The handler's name and types are checked where every handler is, when it is connected.
  return { ...handler, types: types === '*' ? '*' : typeof types === 'string' ? [types] : [...types] };
}

/**
 * Typed handlers for handler modules and for code that builds handlers apart from the queue:
 * `const handler = defineHandlers<Items>(); export default [handler('mail.send', { name, handle(item, ctx) {} })]`.
 * A type outside the map, or a `handle` that expects another payload, is a compile error.
 */
export function defineHandlers<T extends TypeMap>(): {
  <K extends keyof T & string>(types: HandlerTypes<K>, handler: TypedHandler<ItemOf<T, K>>): Handler;
  (types: '*', handler: TypedHandler<Item>): Handler;
} {
  return (types: HandlerTypes<string> | '*', handler: TypedHandler<any>) => toHandler(types, handler);
}
