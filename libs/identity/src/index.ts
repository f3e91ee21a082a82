export * from './api-key-secret';
export * from './api-key-directory';
export * from './credential-authenticator';
export * from './identity.config';
export * from './identity.module';
export * from './oidc';
export * from './get-session/get-session.query';
export * from './get-session/session.view';
