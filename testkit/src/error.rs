//! The one error type of the fallible functions: what could not be made, and the underlying
//! rcgen, jsonwebtoken or I/O error as its source.

use std::fmt;

/// Why a certificate, a key, a token or the JWKS server could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// rcgen could not make a key or a certificate, or parse a key.
    Certificate(rcgen::Error),
    /// jsonwebtoken could not load a key or sign a token.
    Jwt(jsonwebtoken::errors::Error),
    /// A key was of another type than asked for.
    KeyType(&'static str),
    /// A socket could not be bound or read.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Certificate(_) => f.write_str("cannot make a key or certificate"),
            Error::Jwt(_) => f.write_str("cannot load a signing key or sign a token"),
            Error::KeyType(expected) => write!(f, "the key is not {expected}"),
            Error::Io(_) => f.write_str("socket error"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Certificate(e) => Some(e),
            Error::Jwt(e) => Some(e),
            Error::KeyType(_) => None,
            Error::Io(e) => Some(e),
        }
    }
}

impl From<rcgen::Error> for Error {
    fn from(error: rcgen::Error) -> Error {
        Error::Certificate(error)
    }
}

impl From<jsonwebtoken::errors::Error> for Error {
    fn from(error: jsonwebtoken::errors::Error) -> Error {
        Error::Jwt(error)
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::Io(error)
    }
}
