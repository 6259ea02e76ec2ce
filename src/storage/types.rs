//! The domain's value types as columns: rows decode into [`Status`], [`Fen`] and
//! [`ApplicationId`] here, at the storage edge, and queries bind them directly, so strings and
//! bare integers do not travel up the layers. A value the domain refuses (a status code the
//! schema's check would not have let in, an id of the wrong shape) fails the row's decoding with
//! an error naming the column; nothing panics.

use crate::domain::{ids::ApplicationId, money::Fen, returned_part::Part, status::Status};
use sqlx::{Database, Decode, Encode, Type, encode::IsNull, error::BoxDynError};

/// A domain type stored as text: `$to` gives the text, `$from` parses it back (`None` refused).
macro_rules! text_column {
    ($ty:ty, $what:literal, |$v:ident| $to:expr, |$s:ident| $from:expr) => {
        impl<DB: Database> Type<DB> for $ty
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $ty
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let $s = <&'r str as Decode<'r, DB>>::decode(value)?;
                $from.ok_or_else(|| format!(concat!("not ", $what, ": {:?}"), $s).into())
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $ty
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                let $v = self;
                <String as Encode<'q, DB>>::encode($to, buf)
            }
        }
    };
}

text_column!(Status, "a status", |v| v.code().to_owned(), |s| {
    Status::parse(s)
});
text_column!(Part, "a part (scan:… or field:…)", |v| v.code(), |s| {
    Part::parse(s)
});
text_column!(
    ApplicationId,
    "an application id",
    |v| v.as_str().to_owned(),
    |s| ApplicationId::parse(s)
);

impl<DB: Database> Type<DB> for Fen
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Fen
where
    i64: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, DB>>::decode(value).map(Fen::new)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Fen
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode(self.get(), buf)
    }
}
