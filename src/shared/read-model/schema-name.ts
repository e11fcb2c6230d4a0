/** The PostgreSQL schema queries read; a rebuild fills another and swaps it in under this name. */
export const READ_MODEL = 'read_model';
