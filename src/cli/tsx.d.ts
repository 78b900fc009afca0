/** tsx's root entry, which `node --import tsx` loads: importing it registers the loader; it exports nothing. */
declare module 'tsx' {}
