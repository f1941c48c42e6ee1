/** The image contract lives in the API layer; the engine re-exports it. */
export * from '../../api/types/images';
