import { Type } from '@sinclair/typebox';

/** `?after=`: where a name-ordered list continues (the `next` of the page before). */
export const PageAfter = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'continue after this name (the `next` of the previous page)',
  }),
);
