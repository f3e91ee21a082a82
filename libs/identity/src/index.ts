export * from './api-key-secret';
export * from './api-key-directory';
export * from './credential-authenticator';
export * from './identity.config';
export * from './identity.module';
export * from './oidc';
