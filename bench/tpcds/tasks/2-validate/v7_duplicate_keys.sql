-- Validate (data quality): surrogate keys that are not unique in their dimension.
SELECT 'customer' AS dimension, count(*) - count(DISTINCT c_customer_sk) AS duplicates FROM customer
UNION ALL SELECT 'item', count(*) - count(DISTINCT i_item_sk) FROM item
UNION ALL SELECT 'date_dim', count(*) - count(DISTINCT d_date_sk) FROM date_dim
UNION ALL SELECT 'store', count(*) - count(DISTINCT s_store_sk) FROM store
UNION ALL SELECT 'customer_address', count(*) - count(DISTINCT ca_address_sk) FROM customer_address
UNION ALL SELECT 'promotion', count(*) - count(DISTINCT p_promo_sk) FROM promotion
ORDER BY dimension;
