declare module 's3rver';
declare module 'azurite/dist/src/blob/BlobServer.js';
declare module 'azurite/dist/src/blob/BlobConfiguration.js';
