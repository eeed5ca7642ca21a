// zod with `.openapi()`: the API's schemas name their OpenAPI components where they are declared, so the
// document (src/api/openapi/) and the routes' validation use the same schema objects. Import `z` from here in
// any module that names a component; everything else may keep importing 'zod' (the extension is global).
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };

/**
 * Any JSON value (`z.json()`), as one named component: the generator follows the recursion through the name
 * (an unnamed `z.json()` recurses forever), and every JSON field of the API refers to it.
 */
export const JsonValue = z.json().openapi('JsonValue', { description: 'Any JSON value' });
