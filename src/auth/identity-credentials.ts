/**
 * The @azure/identity credentials we use, in their own module so src/auth can
 * load it on first use (tasks authenticating with a PAT never pay for MSAL's
 * start-up) while the bundler still keeps only these classes.
 */
export {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
