//! Pricing and cost of usage.
