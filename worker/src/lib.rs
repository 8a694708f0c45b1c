//! edgechat edge handler.
